//! The mirror `INDEX`: one line per file, `<sha256-hex> <size> <path>`,
//! sorted by path, `#` comments and blank lines allowed.
//!
//! Paths come from servers and are hostile until proven otherwise:
//! [`check_path`] is the single gate every server-provided path passes
//! before it is joined to a local directory.

use std::fmt::Write as _;
use std::path::Path;

use crate::atomic::write_file;
use crate::error::{Error, Result};
use crate::hash::hash_file;
use crate::mirror::local::Listing;

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
    // Most paths are printable ASCII, which a byte scan proves at once.
    if !p.bytes().all(|b| (b' '..=b'~').contains(&b))
        && let Some(c) = p.chars().find(|c| c.is_control())
    {
        return Err(format!("control character {c:?} in path"));
    }
    if p.contains('\\') {
        return Err("backslash in path".into());
    }
    if p.starts_with('/') {
        return Err("absolute path".into());
    }
    p.split('/').try_for_each(check_component)
}

/// One component of a mirror path: not empty, `.` or `..`, not starting
/// with `.`, at most [`MAX_COMPONENT`] bytes. (Control characters and
/// backslashes are [`check_path`]'s to refuse.)
pub fn check_component(c: &str) -> std::result::Result<(), String> {
    match c {
        "" => Err("empty path component ('//' or a trailing '/')".into()),
        "." | ".." => Err(format!("'{c}' component")),
        c if c.starts_with('.') => Err(format!("component '{c}' starts with '.' (reserved)")),
        c if c.len() > MAX_COMPONENT => Err(format!("component longer than {MAX_COMPONENT} bytes")),
        _ => Ok(()),
    }
}

/// An INDEX line, borrowed from the INDEX's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    pub sha256: &'a str,
    pub size: u64,
    pub path: &'a str,
}

impl Line<'_> {
    pub fn to_entry(&self) -> Entry {
        Entry {
            sha256: self.sha256.to_string(),
            size: self.size,
            path: self.path.to_string(),
        }
    }
}

/// Parse an INDEX's text into its lines, sorted by path. Any malformed line
/// makes the whole INDEX malformed (a server that cannot write its own
/// index is not trusted for the rest); paths are *not* checked here — sync
/// refuses bad ones one by one and reports them.
pub fn parse_lines<'a>(text: &'a str, origin: &str) -> Result<Vec<Line<'a>>> {
    let bad = |n: usize, why: String| Error::Invalid {
        path: origin.into(),
        message: format!("INDEX line {}: {why}", n + 1),
    };
    // (line number, line): the number names a duplicate below.
    let mut lines = Vec::new();
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
        lines.push((
            n,
            Line {
                sha256: sha,
                size,
                path,
            },
        ));
    }
    // Stable: of two equal paths, the later line comes second. An INDEX
    // written by gport is sorted already, which this sort finds at once.
    lines.sort_by(|a, b| a.1.path.cmp(b.1.path));
    if let Some(w) = lines.windows(2).find(|w| w[0].1.path == w[1].1.path) {
        let (n, l) = &w[1];
        return Err(bad(
            *n,
            format!("path '{}' listed twice", l.path.escape_debug()),
        ));
    }
    Ok(lines.into_iter().map(|(_, l)| l).collect())
}

impl Index {
    /// Parse an INDEX; see [`parse_lines`].
    pub fn parse(text: &str, origin: &str) -> Result<Index> {
        Ok(Index {
            entries: parse_lines(text, origin)?
                .iter()
                .map(Line::to_entry)
                .collect(),
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = String::from("# gport mirror index: <sha256> <size> <path>\n");
        for e in &self.entries {
            let _ = writeln!(s, "{} {} {}", e.sha256, e.size, e.path);
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
        let mut known = known.map(Index::cursor);
        Self::of_listing(dir, &Listing::walk(dir, 1)?, |path, size| {
            known
                .as_mut()
                .and_then(|k| k.get(path))
                .filter(|e| e.size == size)
                .map(|e| e.sha256.clone())
        })
    }

    /// The index of what `listing` (a walk of `dir`) found, taking each
    /// file's hash from `known(path, size)` if it has one (asked in path
    /// order), else reading the file.
    pub fn of_listing(
        dir: &Path,
        listing: &Listing,
        mut known: impl FnMut(&str, u64) -> Option<String>,
    ) -> Result<Index> {
        let mut entries = Vec::new();
        for (path, size) in listing.files() {
            let sha256 = match known(path, size) {
                Some(sha) => sha,
                None => hash_file(&dir.join(path))?.0,
            };
            entries.push(Entry {
                sha256,
                size,
                path: path.to_string(),
            });
        }
        Ok(Index { entries })
    }

    /// The entry for a path, if any.
    pub fn get(&self, path: &str) -> Option<&Entry> {
        self.cursor().get(path)
    }

    /// Looks entries up by path, cheapest when asked in ascending order.
    pub fn cursor(&self) -> Cursor<'_, Entry> {
        Cursor::new(&self.entries, |e| e.path.as_str())
    }
}

/// Finds items of a slice sorted by a string key. Each lookup starts where
/// the last one stopped, so asking for keys in ascending order — a pass over
/// another sorted list — costs one merge, not a binary search per key; a
/// key out of order costs one binary search.
pub struct Cursor<'a, T> {
    items: &'a [T],
    key: fn(&T) -> &str,
    pos: usize,
}

impl<'a, T> Cursor<'a, T> {
    pub fn new(items: &'a [T], key: fn(&T) -> &str) -> Self {
        Cursor { items, key, pos: 0 }
    }

    pub fn get(&mut self, k: &str) -> Option<&'a T> {
        let key = self.key;
        if self.pos > 0 && key(&self.items[self.pos - 1]) >= k {
            self.pos = self.items.partition_point(|x| key(x) < k);
        }
        while self.items.get(self.pos).is_some_and(|x| key(x) < k) {
            self.pos += 1;
        }
        let found = self.items.get(self.pos).filter(|x| key(x) == k)?;
        self.pos += 1;
        Some(found)
    }
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
            "a/\u{85}b",
            "a/\u{7f}",
            "/a",
            "a/../b",
        ] {
            assert!(check_path(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["lua-5.4.4.tar.gz", "gnu/sed/sed-4.9.tar.xz", "a b/c d.tgz"] {
            assert!(check_path(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn cursor_finds_in_and_out_of_order() {
        let v = ["a", "b/c", "b/d", "e"];
        let mut c = Cursor::new(&v, |s| s);
        assert_eq!(c.get("a"), Some(&"a"));
        assert_eq!(c.get("b"), None);
        assert_eq!(c.get("b/d"), Some(&"b/d"));
        assert_eq!(c.get("b/c"), Some(&"b/c"));
        assert_eq!(c.get("a"), Some(&"a"));
        assert_eq!(c.get("e"), Some(&"e"));
        assert_eq!(c.get("f"), None);
        assert_eq!(c.get("0"), None);
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
