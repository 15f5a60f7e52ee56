//! What a mirror directory holds: one walk that lists every name gport may
//! index (regular files with their sizes, directories, and the things it
//! refuses to write through), read once per sync.
//!
//! The walk reads each directory once and never follows a symlink; file
//! sizes come from `fstatat(2)` relative to an open directory, spread over a
//! few threads — on a mirror of thousands of files, those stats are nearly
//! all the time a no-op sync takes.

use std::fs;
use std::os::fd::OwnedFd;
use std::path::Path;

use nix::sys::stat::{SFlag, fstatat};

use crate::atomic::open_dir_nofollow;
use crate::error::{Error, IoContext, Result};
use crate::mirror::index::{Cursor, INDEX, MAX_PATH, check_component};

/// What is at a local path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File(u64),
    Dir,
    Symlink,
    /// A device, FIFO or socket.
    Special,
}

/// Below this many files, stats stay on the calling thread (a thread costs
/// more than a few hundred stats).
const PARALLEL_FROM: usize = 256;

/// Every indexable name under a mirror directory, sorted by path. Names
/// starting with `.` (gport's `.partial/`, the lock), the top-level `INDEX`,
/// names that are not UTF-8 and names [`check_path`] refuses are left out:
/// no INDEX can list them.
///
/// [`check_path`]: crate::mirror::index::check_path
#[derive(Debug, Default)]
pub struct Listing {
    entries: Vec<(String, Kind)>,
}

/// What a path from an INDEX meets in the local directory.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Missing,
    File(u64),
    /// Not usable: a symlink, directory or special file, or a parent that is
    /// not a real directory. Says why.
    Unusable(String),
}

impl Listing {
    /// Walk `dir` (absent: empty), stat'ing files on up to `threads` threads.
    pub fn walk(dir: &Path, threads: usize) -> Result<Listing> {
        let mut entries = Vec::new();
        // Regular files, as (index into `dirs`, name): stat'ed below for
        // their sizes.
        let mut files: Vec<(usize, String)> = Vec::new();
        let mut dirs: Vec<String> = vec![String::new()];
        let mut next = 0;
        while next < dirs.len() {
            let rel = dirs[next].clone();
            let here = dir.join(&rel);
            let reader = match fs::read_dir(&here) {
                Ok(r) => r,
                Err(e) if rel.is_empty() && e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(Listing::default());
                }
                Err(e) => return Err(Error::io("read", &here, e)),
            };
            for e in reader {
                let e = e.at("read", &here)?;
                let Ok(name) = e.file_name().into_string() else {
                    continue;
                };
                if (rel.is_empty() && name == INDEX) || !indexable(&rel, &name) {
                    continue;
                }
                let t = e.file_type().at("inspect", &e.path())?;
                if t.is_file() {
                    files.push((next, name));
                    continue;
                }
                let path = join(&rel, &name);
                if t.is_dir() {
                    entries.push((path.clone(), Kind::Dir));
                    dirs.push(path);
                } else if t.is_symlink() {
                    entries.push((path, Kind::Symlink));
                } else {
                    entries.push((path, Kind::Special));
                }
            }
            next += 1;
        }
        let kinds = stat_all(dir, &dirs, &files, threads)?;
        for ((d, name), kind) in files.into_iter().zip(kinds) {
            if let Some(kind) = kind {
                entries.push((join(&dirs[d], &name), kind));
            }
        }
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok(Listing { entries })
    }

    /// The regular files, sorted by path, with their sizes.
    pub fn files(&self) -> impl Iterator<Item = (&str, u64)> {
        self.entries.iter().filter_map(|(p, k)| match k {
            Kind::File(size) => Some((p.as_str(), *size)),
            _ => None,
        })
    }

    fn kind(&self, path: &str) -> Option<Kind> {
        self.entries
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// What `path` meets here; see [`Finder::find`].
    pub fn find(&self, path: &str) -> Found {
        self.finder().find(path)
    }

    /// Answers [`Listing::find`] for many paths, cheapest in ascending order.
    pub fn finder(&self) -> Finder<'_> {
        Finder {
            listing: self,
            cursor: Cursor::new(&self.entries, |(p, _)| p.as_str()),
            parent_ok: "",
        }
    }
}

pub struct Finder<'a> {
    listing: &'a Listing,
    cursor: Cursor<'a, (String, Kind)>,
    /// The last parent directory found to be a real directory.
    parent_ok: &'a str,
}

impl<'a> Finder<'a> {
    /// What `path` (already through [`check_path`]) meets here: every
    /// parent must be a real directory, the path itself a regular file or
    /// nothing.
    ///
    /// [`check_path`]: crate::mirror::index::check_path
    pub fn find(&mut self, path: &str) -> Found {
        let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
        if parent != self.parent_ok {
            for (i, _) in path.match_indices('/') {
                let ancestor = &path[..i];
                match self.listing.kind(ancestor) {
                    Some(Kind::Dir) => {}
                    None => return Found::Missing,
                    Some(Kind::Symlink) => {
                        return Found::Unusable(format!(
                            "{ancestor} is a symlink here; not followed"
                        ));
                    }
                    Some(_) => {
                        return Found::Unusable(format!("{ancestor} is not a directory here"));
                    }
                }
            }
            // Borrowed from the listing, which outlives this finder.
            if let Some((p, _)) = self.cursor_entry(parent) {
                self.parent_ok = p;
            }
        }
        match self.cursor.get(path).map(|(_, k)| *k) {
            None => Found::Missing,
            Some(Kind::File(size)) => Found::File(size),
            Some(Kind::Symlink) => {
                Found::Unusable(format!("{path} is a symlink here; not followed"))
            }
            Some(_) => Found::Unusable("not a regular file here".into()),
        }
    }

    /// The listing's own entry for `path`.
    fn cursor_entry(&self, path: &str) -> Option<&'a (String, Kind)> {
        let entries = &self.listing.entries;
        entries
            .binary_search_by(|(p, _)| p.as_str().cmp(path))
            .ok()
            .map(|i| &entries[i])
    }
}

/// `rel/name`, or `name` at the top.
fn join(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        return name.to_string();
    }
    let mut p = String::with_capacity(rel.len() + 1 + name.len());
    p.push_str(rel);
    p.push('/');
    p.push_str(name);
    p
}

/// Could `rel/name` be listed in an INDEX? What [`check_path`] asks, for a
/// name in a directory whose own path passed already. (Names starting with
/// `.` are gport's own state, or hidden: never indexed.)
///
/// [`check_path`]: crate::mirror::index::check_path
fn indexable(rel: &str, name: &str) -> bool {
    rel.len() + 1 + name.len() <= MAX_PATH
        && !name.contains(|c: char| c.is_control() || c == '\\')
        && check_component(name).is_ok()
}

/// Stat each of `files` (directory index, name) relative to its directory;
/// None for a name gone since it was listed.
fn stat_all(
    dir: &Path,
    dirs: &[String],
    files: &[(usize, String)],
    threads: usize,
) -> Result<Vec<Option<Kind>>> {
    let cores = crate::config::cpus();
    let threads = if files.len() < PARALLEL_FROM {
        1
    } else {
        threads.clamp(1, cores)
    };
    if threads == 1 {
        return stat_chunk(dir, dirs, files);
    }
    // Contiguous chunks: files of one directory stay together, so each
    // thread opens each directory at most once.
    let chunk = files.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = files
            .chunks(chunk)
            .map(|part| s.spawn(move || stat_chunk(dir, dirs, part)))
            .collect();
        let mut out = Vec::with_capacity(files.len());
        for h in handles {
            out.extend(h.join().expect("stat thread panicked")?);
        }
        Ok(out)
    })
}

fn stat_chunk(dir: &Path, dirs: &[String], files: &[(usize, String)]) -> Result<Vec<Option<Kind>>> {
    let mut out = Vec::with_capacity(files.len());
    let mut open_dir: Option<(usize, OwnedFd)> = None;
    for (d, name) in files {
        if open_dir.as_ref().is_none_or(|(i, _)| i != d) {
            // O_NOFOLLOW: a directory swapped for a symlink since the walk
            // is not entered.
            let fd = open_dir_nofollow(&dir.join(&dirs[*d]))?;
            open_dir = Some((*d, fd));
        }
        let (_, fd) = open_dir.as_ref().expect("opened above");
        let st = match fstatat(fd, name.as_str(), nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(nix::errno::Errno::ENOENT) => {
                out.push(None);
                continue;
            }
            Err(e) => {
                let path = dir.join(&dirs[*d]).join(name);
                return Err(Error::io("inspect", &path, e.into()));
            }
        };
        let fmt = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        out.push(Some(if fmt == SFlag::S_IFREG {
            Kind::File(st.st_size as u64)
        } else if fmt == SFlag::S_IFLNK {
            Kind::Symlink
        } else if fmt == SFlag::S_IFDIR {
            Kind::Dir
        } else {
            Kind::Special
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_lists_files_and_refuses_to_go_through_symlinks() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        fs::create_dir_all(d.join("a/b")).unwrap();
        fs::write(d.join("a/b/x.tgz"), b"12345").unwrap();
        fs::write(d.join("top.tgz"), b"1").unwrap();
        fs::write(d.join(INDEX), b"").unwrap();
        fs::create_dir(d.join(".partial")).unwrap();
        fs::write(d.join(".partial/p"), b"").unwrap();
        std::os::unix::fs::symlink("/etc", d.join("link")).unwrap();
        fs::write(d.join("file"), b"").unwrap();
        // Many files, so that the threaded path runs too.
        fs::create_dir(d.join("many")).unwrap();
        for i in 0..PARALLEL_FROM + 10 {
            fs::write(d.join(format!("many/f{i:04}")), vec![0; i]).unwrap();
        }
        let l = Listing::walk(d, 3).unwrap();
        let files: Vec<_> = l.files().collect();
        assert_eq!(files.len(), PARALLEL_FROM + 10 + 3);
        assert_eq!(files[0], ("a/b/x.tgz", 5));
        assert_eq!(l.find("many/f0007"), Found::File(7));
        assert_eq!(l.find("top.tgz"), Found::File(1));
        assert_eq!(l.find("new/x.tgz"), Found::Missing);
        assert_eq!(l.find("a/b/y.tgz"), Found::Missing);
        assert!(matches!(l.find("link/passwd"), Found::Unusable(w) if w.contains("symlink")));
        assert!(matches!(l.find("link"), Found::Unusable(w) if w.contains("symlink")));
        assert!(matches!(l.find("file/x"), Found::Unusable(w) if w.contains("not a directory")));
        assert!(matches!(l.find("a/b"), Found::Unusable(_)));
        assert_eq!(
            Listing::walk(&d.join("absent"), 2).unwrap().files().count(),
            0
        );
    }
}
