//! Unpacking a verified source tarball, refusing anything that could reach
//! outside the destination.
//!
//! Refused, naming the entry: absolute paths, `..` components, symlinks whose
//! target is absolute or leaves the destination, hardlinks to anything but a
//! regular file already extracted, device nodes and fifos, and any entry
//! whose parent is a symlink (so a link planted earlier in the archive can
//! never be written through). Set-uid, set-gid and sticky bits are dropped.
//!
//! The archive is streamed; decompression runs on its own thread so that it
//! overlaps with writing files, as `tar -xz` overlaps with its `gzip -d`.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc::{Receiver, sync_channel};
use std::thread;

use nix::sys::stat::{UtimensatFlags, futimens, utimensat};
use nix::sys::time::TimeSpec;
use tar::EntryType;

use crate::atomic::{create_dirs_nofollow, is_plain_file_under, libc_nofollow};
use crate::error::{Error, IoContext, Result};
use crate::paths::stays_inside;
use crate::ui::Progress;

/// What an extraction produced.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stats {
    pub entries: u64,
    pub bytes: u64,
    /// The newest entry's mtime: a default SOURCE_DATE_EPOCH.
    pub newest_mtime: u64,
}

/// Compression, recognised by magic bytes rather than by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Gzip,
    Bzip2,
    Xz,
    None,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(b"BZh") {
            Compression::Bzip2
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Compression::Xz
        } else {
            Compression::None
        }
    }
}

/// Open `archive` as a decompressed stream, decompressing on another thread.
pub fn open_stream(archive: &Path) -> Result<Box<dyn Read>> {
    open_stream_with(archive, &Progress::none())
}

/// As [`open_stream`], advancing `progress` by the compressed bytes read.
pub fn open_stream_with(archive: &Path, progress: &Progress) -> Result<Box<dyn Read>> {
    let file = File::open(archive).at("open", archive)?;
    let mut file = progress.owned_reader(file);
    let mut head = [0u8; 6];
    let n = read_up_to(&mut file, &mut head).at("read", archive)?;
    let file = io::Cursor::new(head[..n].to_vec()).chain(file);
    let decoder: Box<dyn Read + Send> = match Compression::sniff(&head[..n]) {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(1 << 16, file),
        )),
        Compression::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(file)),
        Compression::Xz => Box::new(xz2::read::XzDecoder::new_multi_decoder(file)),
        Compression::None => Box::new(file),
    };
    Ok(Box::new(ThreadedReader::spawn(decoder)))
}

fn read_up_to(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// A reader fed by a thread that reads `inner` ahead in 256 KiB chunks. At
/// most a few chunks are in flight, so memory stays bounded.
struct ThreadedReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl ThreadedReader {
    fn spawn(mut inner: Box<dyn Read + Send>) -> Self {
        let (tx, rx) = sync_channel(4);
        thread::spawn(move || {
            loop {
                let mut buf = vec![0u8; 256 * 1024];
                match read_up_to(&mut inner, &mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        buf.truncate(n);
                        if tx.send(Ok(buf)).is_err() {
                            break;
                        }
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        break;
                    }
                }
            }
        });
        ThreadedReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        }
    }
}

impl Read for ThreadedReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(Ok(chunk)) => {
                    self.chunk = chunk;
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// A path inside the destination, or why it is refused.
fn safe_relative(path: &Path) -> std::result::Result<PathBuf, String> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err("path contains '..'".into()),
            Component::RootDir | Component::Prefix(_) => return Err("absolute path".into()),
        }
    }
    Ok(out)
}

/// Extract `archive` into the existing directory `dest`.
pub fn extract(archive: &Path, dest: &Path) -> Result<Stats> {
    extract_with(archive, dest, &Progress::none())
}

/// As [`extract`], showing progress.
pub fn extract_with(archive: &Path, dest: &Path, progress: &Progress) -> Result<Stats> {
    let stream = open_stream_with(archive, progress)?;
    let mut ar = tar::Archive::new(stream);
    let read_err = |source: io::Error| Error::Archive {
        archive: archive.to_path_buf(),
        source,
    };
    let refuse = |entry: &str, reason: String| Error::UnsafeArchive {
        archive: archive.to_path_buf(),
        entry: entry.to_string(),
        reason,
    };
    let mut stats = Stats::default();
    // Directory modes and times are applied last: creating entries inside a
    // directory changes its mtime, and a read-only directory would block them.
    let mut dirs: Vec<(PathBuf, u32, u64)> = Vec::new();
    let mut known_dirs = KnownDirs::default();

    for entry in ar.entries().map_err(read_err)? {
        let mut entry = entry.map_err(read_err)?;
        let raw = entry.path_bytes();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let kind = entry.header().entry_type();
        if matches!(kind, EntryType::XGlobalHeader | EntryType::XHeader) {
            continue;
        }
        let path = entry.path().map_err(read_err)?;
        let rel = safe_relative(&path).map_err(|r| refuse(&shown, r))?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        let mode = entry.header().mode().map_err(read_err)? & 0o777;
        let mtime = entry.header().mtime().unwrap_or(0);
        let full = dest.join(&rel);
        let parent = rel.parent().unwrap_or(Path::new(""));
        if kind != EntryType::Directory {
            known_dirs
                .ensure(dest, parent)
                .map_err(|e| refuse(&shown, e.to_string()))?;
        }
        let taken_by_dir = || {
            refuse(
                &shown,
                "a directory of that name was already extracted".into(),
            )
        };
        stats.entries += 1;
        stats.newest_mtime = stats.newest_mtime.max(mtime);
        match kind {
            EntryType::Directory => {
                known_dirs
                    .ensure(dest, &rel)
                    .map_err(|e| refuse(&shown, e.to_string()))?;
                dirs.push((full, mode | 0o700, mtime));
            }
            EntryType::Regular | EntryType::Continuous => {
                let mut f = create_fresh(&full, taken_by_dir, || {
                    OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o600)
                        .custom_flags(libc_nofollow())
                        .open(&full)
                })?;
                stats.bytes += io::copy(&mut entry, &mut f).map_err(read_err)?;
                f.set_permissions(fs::Permissions::from_mode(mode))
                    .at("set mode of", &full)?;
                let t = TimeSpec::new(mtime as i64, 0);
                futimens(&f, &t, &t).map_err(|e| Error::io("set time of", &full, e.into()))?;
            }
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(read_err)?
                    .ok_or_else(|| refuse(&shown, "symlink without a target".into()))?;
                if !stays_inside(&rel, &target) {
                    return Err(refuse(
                        &shown,
                        format!("symlink to '{}' leaves the source tree", target.display()),
                    ));
                }
                create_fresh(&full, taken_by_dir, || {
                    std::os::unix::fs::symlink(&target, &full)
                })?;
                let t = TimeSpec::new(mtime as i64, 0);
                let _ = utimensat(
                    nix::fcntl::AT_FDCWD,
                    &full,
                    &t,
                    &t,
                    UtimensatFlags::NoFollowSymlink,
                );
            }
            EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(read_err)?
                    .ok_or_else(|| refuse(&shown, "hardlink without a target".into()))?;
                let target_rel = safe_relative(&target).map_err(|r| {
                    refuse(
                        &shown,
                        format!("hardlink target '{}': {r}", target.display()),
                    )
                })?;
                if !is_plain_file_under(dest, &target_rel) {
                    return Err(refuse(
                        &shown,
                        format!(
                            "hardlink to '{}', which is not a regular file extracted earlier",
                            target.display()
                        ),
                    ));
                }
                create_fresh(&full, taken_by_dir, || {
                    fs::hard_link(dest.join(&target_rel), &full)
                })?;
            }
            EntryType::Char | EntryType::Block => return Err(refuse(&shown, "device node".into())),
            EntryType::Fifo => return Err(refuse(&shown, "fifo".into())),
            other => return Err(refuse(&shown, format!("unsupported entry type {other:?}"))),
        }
    }
    for (dir, mode, mtime) in dirs.iter().rev() {
        fs::set_permissions(dir, fs::Permissions::from_mode(*mode)).at("set mode of", dir)?;
        let t = TimeSpec::new(*mtime as i64, 0);
        let _ = utimensat(
            nix::fcntl::AT_FDCWD,
            dir,
            &t,
            &t,
            UtimensatFlags::NoFollowSymlink,
        );
    }
    Ok(stats)
}

/// Directories this extraction has created or checked. No entry may replace
/// a directory, so once a path is known to be a real directory it stays one,
/// and each is checked once instead of once per entry beneath it.
#[derive(Default)]
struct KnownDirs(HashSet<PathBuf>);

impl KnownDirs {
    fn ensure(&mut self, dest: &Path, rel: &Path) -> Result<()> {
        if rel.as_os_str().is_empty() || self.0.contains(rel) {
            return Ok(());
        }
        create_dirs_nofollow(dest, rel)?;
        for dir in rel.ancestors().filter(|a| !a.as_os_str().is_empty()) {
            self.0.insert(dir.to_path_buf());
        }
        Ok(())
    }
}

/// Run `create` for `full`. If an earlier entry holds the name (archives may
/// repeat a path; the last one wins), remove it and try again, unless it is
/// a directory, which is never replaced.
fn create_fresh<T>(
    full: &Path,
    taken_by_dir: impl Fn() -> Error,
    create: impl Fn() -> io::Result<T>,
) -> Result<T> {
    match create() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            if fs::symlink_metadata(full).at("inspect", full)?.is_dir() {
                return Err(taken_by_dir());
            }
            fs::remove_file(full).at("replace", full)?;
            create().at("create", full)
        }
        r => r.at("create", full),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            safe_relative(Path::new("./a/b")).unwrap(),
            PathBuf::from("a/b")
        );
        assert!(safe_relative(Path::new("a/../../b")).is_err());
        assert!(safe_relative(Path::new("/etc/passwd")).is_err());
    }

    fn tar_of(entries: &[(&str, EntryType, &[u8])]) -> tempfile::NamedTempFile {
        let mut b = tar::Builder::new(Vec::new());
        for (name, kind, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_path(name).unwrap();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        let f = tempfile::NamedTempFile::new().unwrap();
        fs::write(f.path(), b.into_inner().unwrap()).unwrap();
        f
    }

    #[test]
    fn repeated_path_last_wins_but_never_over_a_directory() {
        let dest = tempfile::tempdir().unwrap();
        let t = tar_of(&[
            ("a/f", EntryType::Regular, b"one"),
            ("a/f", EntryType::Regular, b"two"),
            ("a/l", EntryType::Regular, b"x"),
        ]);
        let stats = extract(t.path(), dest.path()).unwrap();
        assert_eq!(stats.entries, 3);
        assert_eq!(fs::read(dest.path().join("a/f")).unwrap(), b"two");
        let t = tar_of(&[
            ("a/d/", EntryType::Directory, b""),
            ("a/d", EntryType::Regular, b"x"),
        ]);
        let err = extract(t.path(), tempfile::tempdir().unwrap().path()).unwrap_err();
        assert!(
            err.to_string().contains("a directory of that name"),
            "{err}"
        );
    }

    #[test]
    fn sniffing() {
        assert_eq!(Compression::sniff(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(Compression::sniff(b"BZh91AY"), Compression::Bzip2);
        assert_eq!(Compression::sniff(b"ustar"), Compression::None);
    }
}
