//! Durable, atomic changes to the filesystem.
//!
//! Every write gport makes goes through here: write to a temporary name in the
//! same directory, fsync, rename over the final name, fsync the directory. A
//! reader (or a machine that loses power) sees the old state or the new one,
//! never a torn file or a missing symlink.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, IoContext, Result};

/// fsync a directory, making renames and creations inside it durable.
pub fn fsync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .at("sync directory", dir)
}

/// Open directory `dir` for `*at(2)` calls, refusing a symlink in its place.
pub fn open_dir_nofollow(dir: &Path) -> Result<std::os::fd::OwnedFd> {
    use nix::fcntl::{OFlag, open};
    open(
        dir,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )
    .map_err(|e| Error::io("open", dir, e.into()))
}

/// A temporary sibling name for `path`, unique to this process.
fn temp_sibling(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.gport-tmp.{}", std::process::id()))
}

/// Write `contents` to `path` atomically (temp, fsync, rename, fsync dir).
pub fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<()> {
    let tmp = temp_sibling(path);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .custom_flags(libc_nofollow())
            .open(&tmp)
            .at("create", &tmp)?;
        f.write_all(contents).at("write", &tmp)?;
        f.set_permissions(fs::Permissions::from_mode(mode))
            .at("set mode of", &tmp)?;
        f.sync_all().at("sync", &tmp)?;
        fs::rename(&tmp, path).at("rename into place", path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    fsync_dir(parent(path))
}

/// Point the symlink `link` at `target`, atomically replacing whatever link is
/// there (the caller has checked that gport owns it). The directory is not
/// synced: callers changing many links sync each directory once.
pub fn replace_symlink(target: &Path, link: &Path) -> Result<()> {
    let tmp = temp_sibling(link);
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp).at("create symlink", &tmp)?;
    fs::rename(&tmp, link).map_err(|e| {
        let _ = fs::remove_file(&tmp);
        Error::io("rename symlink into place", link, e)
    })
}

/// The directory containing `path` (`.` for a bare name).
pub fn parent(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Create `base/rel` and its missing parents as real directories, refusing to
/// pass through a symlink or a non-directory: a hostile archive, patch or
/// build must never make gport write outside `base`. Returns the directories
/// created, outermost first, so a failed operation can remove exactly those.
pub fn create_dirs_nofollow(base: &Path, rel: &Path) -> Result<Vec<PathBuf>> {
    let mut created = Vec::new();
    let mut cur = base.to_path_buf();
    for comp in rel.components() {
        match comp {
            Component::Normal(c) => cur.push(c),
            Component::CurDir => continue,
            _ => {
                return Err(Error::Invalid {
                    path: rel.to_path_buf(),
                    message: "path is not a plain relative path".into(),
                });
            }
        }
        match fs::symlink_metadata(&cur) {
            Ok(m) if m.is_dir() => {}
            Ok(m) => {
                let what = if m.file_type().is_symlink() {
                    "a symlink"
                } else {
                    "not a directory"
                };
                return Err(Error::Invalid {
                    path: cur,
                    message: format!("{what}; refusing to create anything beneath it"),
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => match fs::create_dir(&cur) {
                Ok(()) => created.push(cur.clone()),
                // Another thread or process made it first: fine if it is a
                // real directory.
                Err(e)
                    if e.kind() == std::io::ErrorKind::AlreadyExists
                        && fs::symlink_metadata(&cur).is_ok_and(|m| m.is_dir()) => {}
                Err(e) => return Err(Error::io("create directory", &cur, e)),
            },
            Err(e) => return Err(Error::io("inspect", &cur, e)),
        }
    }
    Ok(created)
}

/// Remove a tree gport created, including read-only installed trees: write
/// permission is restored on each directory before its entries are removed.
/// Symlinks are removed, never followed.
pub fn remove_tree(path: &Path) -> Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("inspect", path, e)),
    };
    if meta.is_dir() {
        if meta.permissions().mode() & 0o700 != 0o700 {
            fs::set_permissions(path, fs::Permissions::from_mode(0o755))
                .at("make writable", path)?;
        }
        for entry in fs::read_dir(path).at("read directory", path)? {
            let entry = entry.at("read directory", path)?;
            remove_tree(&entry.path())?;
        }
        fs::remove_dir(path).at("remove directory", path)
    } else {
        fs::remove_file(path).at("remove", path)
    }
}

/// `O_NOFOLLOW`: opening a final component that is a symlink fails instead of
/// writing wherever it points.
pub fn libc_nofollow() -> i32 {
    nix::fcntl::OFlag::O_NOFOLLOW.bits()
}

/// Is `rel` a regular file under `base`, reached through real directories
/// only (no symlink anywhere on the way, the file itself included)?
pub fn is_plain_file_under(base: &Path, rel: &Path) -> bool {
    let mut cur = base.to_path_buf();
    let mut comps = rel.components().peekable();
    while let Some(c) = comps.next() {
        if !matches!(c, Component::Normal(_)) {
            return false;
        }
        cur.push(c);
        let Ok(m) = fs::symlink_metadata(&cur) else {
            return false;
        };
        let last = comps.peek().is_none();
        if (last && !m.is_file()) || (!last && !m.is_dir()) {
            return false;
        }
    }
    true
}
