//! Reading just the files a port's patches touch straight out of its
//! (verified) source tarballs, without extracting anything to disk.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::extract::open_stream;
use crate::port::Port;

/// The pristine source as far as the audit needs it.
#[derive(Debug, Default)]
pub struct Pristine {
    /// Contents of the wanted files, by path relative to the source dir.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Every path in the source dir (files, not directories).
    pub paths: BTreeSet<String>,
}

/// Stream each extractable source of `port` and keep the files at `wanted`
/// (paths relative to the source dir the build script and patches see).
pub fn read(port: &Port, distfiles: &[PathBuf], wanted: &BTreeSet<String>) -> Result<Pristine> {
    // Entry path (relative to the work dir's src/) -> content, for entries
    // that may be a wanted file once the source dir is known.
    let mut candidates: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut all: Vec<String> = Vec::new();
    let mut tops: BTreeSet<String> = BTreeSet::new();
    // With one tarball, reading can stop as soon as every wanted file has
    // been seen: what follows in the stream is never decompressed.
    let single = port.sources.iter().filter(|s| s.extract).count() == 1;
    for (src, file) in port.sources.iter().zip(distfiles) {
        if !src.extract {
            all.push(src.file_name().to_string());
            tops.insert(src.file_name().to_string());
            continue;
        }
        let err = |source: std::io::Error| Error::Archive {
            archive: file.clone(),
            source,
        };
        let mut ar = tar::Archive::new(open_stream(file)?);
        for entry in ar.entries().map_err(err)? {
            let mut entry = entry.map_err(err)?;
            let kind = entry.header().entry_type();
            if matches!(
                kind,
                tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
            ) {
                continue;
            }
            let is_file = kind.is_file();
            let path = entry.path().map_err(err)?;
            let Some(rel) = plain(&path) else { continue };
            if let Some(top) = rel.split('/').next() {
                tops.insert(top.to_string());
            }
            if !is_file {
                continue;
            }
            let keep = suffixes(&rel).any(|s| wanted.contains(s));
            if keep {
                let mut data = Vec::new();
                entry.read_to_end(&mut data).map_err(err)?;
                candidates.insert(rel.clone(), data);
                all.push(rel);
                if single && all_found(port, &tops, &candidates, wanted) {
                    break;
                }
                continue;
            }
            all.push(rel);
        }
    }
    // The source dir, as the build sees it: [build] srcdir, or the single
    // top-level directory of the unpacked sources.
    let prefix = match &port.build.srcdir {
        Some(d) => format!("{}/", d.as_path().display()),
        None if tops.len() == 1 && all.iter().all(|p| p.contains('/')) => {
            format!("{}/", tops.iter().next().expect("one"))
        }
        None => String::new(),
    };
    let strip = |p: &str| p.strip_prefix(prefix.as_str()).map(String::from);
    Ok(Pristine {
        files: candidates
            .into_iter()
            .filter_map(|(p, d)| strip(&p).map(|p| (p, d)))
            .collect(),
        paths: all.iter().filter_map(|p| strip(p)).collect(),
    })
}

/// Has every wanted file been read, under the source dir as known so far?
fn all_found(
    port: &Port,
    tops: &BTreeSet<String>,
    candidates: &BTreeMap<String, Vec<u8>>,
    wanted: &BTreeSet<String>,
) -> bool {
    let prefix = match &port.build.srcdir {
        Some(d) => format!("{}/", d.as_path().display()),
        None if tops.len() == 1 => format!("{}/", tops.iter().next().expect("one")),
        None => return false,
    };
    wanted
        .iter()
        .all(|w| candidates.contains_key(&format!("{prefix}{w}")))
}

/// A tar path as a plain relative string (no `.`/`..`/absolute), or None.
fn plain(p: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => parts.push(n.to_str()?),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `a/b/c` -> `a/b/c`, `b/c`, `c`.
fn suffixes(p: &str) -> impl Iterator<Item = &str> {
    std::iter::once(p).chain(p.match_indices('/').map(move |(i, _)| &p[i + 1..]))
}
