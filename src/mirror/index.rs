//! The mirror `INDEX`: one line per file, `<sha256-hex> <size> <path>`,
//! sorted by path, `#` comments and blank lines allowed.
//!
//! Paths come from servers and are hostile until proven otherwise:
//! [`check_path`] is the single gate every server-provided path passes
//! before it is joined to a local directory.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::path::Path;

use crate::atomic::write_file;
use crate::error::{Error, IoContext, Result};
use crate::hash::hash_file;

pub const INDEX: &str = "INDEX";
/// Longest path accepted, in bytes.
pub const MAX_PATH: usize = 1024;
/// Longest path component accepted, in bytes.
pub const MAX_COMPONENT: usize = 255;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub sha256: String,
    pub size: u64,
    pub path: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Index {
    /// Sorted by path, paths unique.
    pub entries: Vec<Entry>,
}

/// Is `p` safe to create under a mirror directory? Relative; no `.`, `..`,
/// empty or dot-leading components (`.partial/` and other state of ours
/// live there); no NUL, control characters or backslashes; bounded lengths.
pub fn check_path(p: &str) -> std::result::Result<(), String> {
    if p.is_empty() {
        return Err("empty path".into());
    }
    if p.len() > MAX_PATH {
        return Err(format!("path longer than {MAX_PATH} bytes"));
    }
    if let Some(c) = p.chars().find(|c| c.is_control()) {
        return Err(format!("control character {c:?} in path"));
    }
    if p.contains('\\') {
        return Err("backslash in path".into());
    }
    if p.starts_with('/') {
        return Err("absolute path".into());
    }
    for comp in p.split('/') {
        match comp {
            "" => return Err("empty path component ('//' or a trailing '/')".into()),
            "." | ".." => return Err(format!("'{comp}' component")),
            c if c.starts_with('.') => {
                return Err(format!("component '{c}' starts with '.' (reserved)"));
            }
            c if c.len() > MAX_COMPONENT => {
                return Err(format!("component longer than {MAX_COMPONENT} bytes"));
            }
            _ => {}
        }
    }
    Ok(())
}

impl Index {
    /// Parse an INDEX. Any malformed line makes the whole INDEX malformed
    /// (a server that cannot write its own index is not trusted for the
    /// rest); paths are *not* checked here — sync refuses bad ones one by
    /// one and reports them.
    pub fn parse(text: &str, origin: &str) -> Result<Index> {
        let bad = |n: usize, why: String| Error::Invalid {
            path: origin.into(),
            message: format!("INDEX line {}: {why}", n + 1),
        };
        let mut entries = Vec::new();
        let mut seen = BTreeSet::new();
        for (n, line) in text.split('\n').enumerate() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut f = line.splitn(3, ' ');
            let (Some(sha), Some(size), Some(path)) = (f.next(), f.next(), f.next()) else {
                return Err(bad(n, "expected '<sha256> <size> <path>'".into()));
            };
            if sha.len() != 64
                || !sha
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(bad(
                    n,
                    format!("'{}' is not a lower-case hex sha256", sha.escape_debug()),
                ));
            }
            let size: u64 = size
                .parse()
                .map_err(|_| bad(n, format!("'{}' is not a size", size.escape_debug())))?;
            if !seen.insert(path.to_string()) {
                return Err(bad(
                    n,
                    format!("path '{}' listed twice", path.escape_debug()),
                ));
            }
            entries.push(Entry {
                sha256: sha.into(),
                size,
                path: path.into(),
            });
        }
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Index { entries })
    }

    pub fn to_text(&self) -> String {
        let mut s = String::from("# gport mirror index: <sha256> <size> <path>\n");
        for e in &self.entries {
            s.push_str(&format!("{} {} {}\n", e.sha256, e.size, e.path));
        }
        s
    }

    /// The entry for a sha256, if any.
    pub fn by_sha(&self, sha: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.sha256 == sha)
    }

    /// Write `DIR/INDEX` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        write_file(&dir.join(INDEX), self.to_text().as_bytes(), 0o644)
    }

    /// Index every regular file under `dir` (dot-files, dot-directories and
    /// `INDEX` itself excluded; symlinks are not followed or listed).
    /// `known` supplies hashes for files whose size still matches, so an
    /// unchanged mirror is not re-read.
    pub fn scan(dir: &Path, known: Option<&Index>) -> Result<Index> {
        Self::scan_with_sizes(dir, known, &HashMap::new())
    }

    /// As [`Index::scan`], taking the sizes of files just stat'ed from
    /// `sizes` instead of asking the filesystem again.
    pub fn scan_with_sizes(
        dir: &Path,
        known: Option<&Index>,
        sizes: &HashMap<String, u64>,
    ) -> Result<Index> {
        let mut entries = Vec::new();
        scan_into(dir, "", known, sizes, &mut entries)?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Index { entries })
    }
}

fn scan_into(
    base: &Path,
    rel: &str,
    known: Option<&Index>,
    sizes: &HashMap<String, u64>,
    out: &mut Vec<Entry>,
) -> Result<()> {
    let dir = base.join(rel);
    for e in fs::read_dir(&dir).at("read", &dir)? {
        let e = e.at("read", &dir)?;
        let Some(name) = e.file_name().to_str().map(String::from) else {
            continue;
        };
        if name.starts_with('.') || (rel.is_empty() && name == INDEX) {
            continue;
        }
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let t = e.file_type().at("inspect", &e.path())?;
        if t.is_dir() {
            scan_into(base, &path, known, sizes, out)?;
        } else if t.is_file() {
            if check_path(&path).is_err() {
                continue;
            }
            let size = match sizes.get(&path) {
                Some(s) => *s,
                None => e.metadata().at("inspect", &e.path())?.len(),
            };
            let cached = known.and_then(|k| {
                k.entries
                    .binary_search_by(|x| x.path.as_str().cmp(&path))
                    .ok()
                    .map(|i| &k.entries[i])
            });
            let sha256 = match cached {
                Some(c) if c.size == size => c.sha256.clone(),
                _ => hash_file(&e.path())?.0,
            };
            out.push(Entry { sha256, size, path });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_paths_are_refused() {
        for bad in [
            "../x",
            "/etc/passwd",
            "a/./b",
            "a//b",
            "",
            "a/",
            "a\nb",
            "a\0b",
            "a\\b",
            "a\tb",
            ".partial/x",
            "a/.hidden",
            &"x".repeat(256),
            &format!("{}/y", "d/".repeat(600)),
        ] {
            assert!(check_path(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["lua-5.4.4.tar.gz", "gnu/sed/sed-4.9.tar.xz", "a b/c d.tgz"] {
            assert!(check_path(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn parse_and_write_round_trip() {
        let sha = "a".repeat(64);
        let text = format!("# comment\n{sha} 10 b/x.tar.gz\n\n{sha} 3 a.tgz\r\n");
        let idx = Index::parse(&text, "test").unwrap();
        assert_eq!(
            idx.entries
                .iter()
                .map(|e| e.path.as_str())
                .collect::<Vec<_>>(),
            ["a.tgz", "b/x.tar.gz"]
        );
        assert_eq!(Index::parse(&idx.to_text(), "again").unwrap(), idx);
    }

    #[test]
    fn malformed_lines_name_the_line() {
        let sha = "a".repeat(64);
        for (text, needle) in [
            (format!("{sha} 10\n"), "line 1: expected"),
            (format!("# x\n{} 10 p\n", "A".repeat(64)), "line 2: "),
            (format!("{sha} ten p\n"), "'ten' is not a size"),
            (format!("{sha} 1 p\n{sha} 2 p\n"), "listed twice"),
        ] {
            let err = Index::parse(&text, "srv").unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
