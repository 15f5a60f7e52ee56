//! The manifest of an installed package: every path with its type, mode,
//! size and SHA-256 (or symlink target), in a plain, greppable text file.
//!
//! ```text
//! # gport manifest 1
//! d	0555	-	-	bin
//! f	0555	231840	5f1c…	bin/lua
//! l	0777	-	-	bin/luac5.4	luac
//! ```
//!
//! Fields are tab-separated; paths are UTF-8 without control characters
//! (the installer refuses others), so no quoting is needed.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use sha2::Digest;

use crate::error::{Error, Result};

pub const HEADER: &str = "# gport manifest 1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    File { size: u64, sha256: String },
    Dir,
    Symlink { target: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the package prefix.
    pub path: PathBuf,
    pub mode: u32,
    pub kind: Kind,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Sorted by path.
    pub entries: Vec<Entry>,
}

impl Manifest {
    /// The entry lines (paths, types, modes, sizes, contents' sha256, link
    /// targets), sorted: what two builds must share to be the same.
    fn entry_lines(&self) -> String {
        let mut s = String::new();
        for e in &self.entries {
            let p = e.path.display();
            let _ = match &e.kind {
                Kind::File { size, sha256 } => {
                    writeln!(s, "f\t{:04o}\t{size}\t{sha256}\t{p}", e.mode)
                }
                Kind::Dir => writeln!(s, "d\t{:04o}\t-\t-\t{p}", e.mode),
                Kind::Symlink { target } => writeln!(s, "l\t{:04o}\t-\t-\t{p}\t{target}", e.mode),
            };
        }
        s
    }

    /// SHA-256 over the entry lines: equal trees, equal hash, whatever the
    /// machine, path or time of the build.
    pub fn tree_hash(&self) -> String {
        crate::hash::to_hex(&sha2::Sha256::digest(self.entry_lines().as_bytes()))
    }

    pub fn to_text(&self) -> String {
        format!(
            "{HEADER}\n# tree-hash {}\n{}",
            self.tree_hash(),
            self.entry_lines()
        )
    }

    pub fn parse(file: &Path, text: &str) -> Result<Manifest> {
        let bad = |n: usize, why: &str| Error::Invalid {
            path: file.to_path_buf(),
            message: format!("line {}: {why}", n + 1),
        };
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, HEADER)) => {}
            _ => return Err(bad(0, "not a gport manifest (bad header)")),
        }
        // Sized once: a big package's manifest has tens of thousands of lines.
        let mut entries = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count());
        for (n, line) in lines {
            if line.starts_with('#') {
                continue;
            }
            // Up to six tab-separated fields, split without a per-line Vec.
            let mut f = [""; 6];
            let mut n_fields = 0;
            for (slot, field) in f.iter_mut().zip(line.splitn(6, '\t')) {
                *slot = field;
                n_fields += 1;
            }
            if n_fields < 5 {
                return Err(bad(n, "too few fields"));
            }
            let mode = u32::from_str_radix(f[1], 8).map_err(|_| bad(n, "bad mode"))?;
            let kind = match (f[0], n_fields) {
                ("f", 5) => Kind::File {
                    size: f[2].parse().map_err(|_| bad(n, "bad size"))?,
                    sha256: f[3].to_string(),
                },
                ("d", 5) => Kind::Dir,
                ("l", 6) => Kind::Symlink {
                    target: f[5].to_string(),
                },
                _ => return Err(bad(n, "unknown entry type")),
            };
            entries.push(Entry {
                path: PathBuf::from(f[4]),
                mode,
                kind,
            });
        }
        Ok(Manifest { entries })
    }

    /// Paths that can be linked: files and symlinks, not directories.
    pub fn linkable(&self) -> impl Iterator<Item = &Path> {
        self.entries
            .iter()
            .filter(|e| !matches!(e.kind, Kind::Dir))
            .map(|e| e.path.as_path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = Manifest {
            entries: vec![
                Entry {
                    path: "bin".into(),
                    mode: 0o555,
                    kind: Kind::Dir,
                },
                Entry {
                    path: "bin/lua".into(),
                    mode: 0o555,
                    kind: Kind::File {
                        size: 3,
                        sha256: "ab".repeat(32),
                    },
                },
                Entry {
                    path: "bin/l x".into(),
                    mode: 0o777,
                    kind: Kind::Symlink {
                        target: "lua".into(),
                    },
                },
            ],
        };
        let text = m.to_text();
        assert_eq!(Manifest::parse(Path::new("m"), &text).unwrap(), m);
        assert_eq!(m.linkable().count(), 2);
    }
}
