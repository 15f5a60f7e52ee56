//! `gport mirror import SRC... [--into DIR]`: add files identified by their
//! SHA-256, whatever they are called, under the names the tree (or a mirror
//! INDEX) expects. A file already present with the same content is left; a
//! different file under the expected name is a conflict and is kept.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::atomic::{create_dirs_nofollow, fsync_dir};
use crate::error::{IoContext, Result};
use crate::hash::{copy_hashed, hash_file};
use crate::mirror::index::{Index, check_path};
use crate::tree::Tree;

/// sha256 -> (size, expected relative path).
pub type Wanted = BTreeMap<String, (u64, String)>;

/// What the tree's ports expect: their distfiles by file name.
pub fn wanted_by_tree(tree: &Tree) -> Result<Wanted> {
    let mut w = Wanted::new();
    for name in tree.names() {
        for s in tree.load(name)?.sources {
            w.insert(
                s.sha256.as_str().to_string(),
                (s.size, s.file_name().to_string()),
            );
        }
    }
    Ok(w)
}

/// What a mirror INDEX lists, under its paths.
pub fn wanted_by_index(index: &Index) -> Wanted {
    index
        .entries
        .iter()
        .filter(|e| check_path(&e.path).is_ok())
        .map(|e| (e.sha256.clone(), (e.size, e.path.clone())))
        .collect()
}

#[derive(Debug, Default)]
pub struct Report {
    pub imported: Vec<String>,
    pub present: Vec<String>,
    /// Expected path, and why it was not imported.
    pub conflicts: Vec<(String, String)>,
    /// Files that match nothing wanted.
    pub unmatched: usize,
}

pub fn import(srcs: &[PathBuf], into: &Path, wanted: &Wanted, dry_run: bool) -> Result<Report> {
    if !dry_run {
        fs::create_dir_all(into).at("create", into)?;
    }
    let mut files = Vec::new();
    for s in srcs {
        collect(s, &mut files)?;
    }
    let mut report = Report::default();
    for f in files {
        let (sha, size) = hash_file(&f)?;
        let Some((want_size, name)) = wanted.get(&sha).filter(|(s, _)| *s == size) else {
            report.unmatched += 1;
            continue;
        };
        let dest = into.join(name);
        match fs::symlink_metadata(&dest) {
            Ok(m) if m.is_file() && m.len() == *want_size && hash_file(&dest)?.0 == sha => {
                report.present.push(name.clone());
                continue;
            }
            Ok(_) => {
                report.conflicts.push((
                    name.clone(),
                    format!("{} holds other content; kept", dest.display()),
                ));
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(crate::error::Error::io("inspect", &dest, e)),
        }
        if dry_run {
            report.imported.push(name.clone());
            continue;
        }
        let parent = Path::new(name).parent().unwrap_or(Path::new(""));
        create_dirs_nofollow(into, parent)?;
        let dir = into.join(parent);
        // Copy (verifying again on the way), sync, then link into place: a
        // name never holds a partial or unverified file.
        let mut tmp = tempfile::Builder::new()
            .prefix(".import-")
            .tempfile_in(&dir)
            .at("create a temporary file in", &dir)?;
        let mut input = fs::File::open(&f).at("open", &f)?;
        let (again, _) = copy_hashed(&mut input, tmp.as_file_mut(), Some(size)).at("copy", &f)?;
        if again != sha {
            report.conflicts.push((
                name.clone(),
                format!("{} changed while importing", f.display()),
            ));
            continue;
        }
        tmp.as_file().sync_all().at("sync", tmp.path())?;
        match fs::hard_link(tmp.path(), &dest) {
            Ok(()) => {
                fsync_dir(&dir)?;
                report.imported.push(name.clone());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                report
                    .conflicts
                    .push((name.clone(), "appeared during the import; kept".into()));
            }
            Err(e) => return Err(crate::error::Error::io("link into place", &dest, e)),
        }
    }
    report.imported.sort();
    Ok(report)
}

/// Regular files named on the command line (followed if symlinks) and
/// under named directories (not following symlinks inside them).
fn collect(p: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let meta = fs::metadata(p).at("inspect", p)?;
    if meta.is_file() {
        out.push(p.to_path_buf());
        return Ok(());
    }
    let mut stack = vec![p.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).at("read", &dir)? {
            let e = e.at("read", &dir)?;
            let t = e.file_type().at("inspect", &e.path())?;
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    Ok(())
}
