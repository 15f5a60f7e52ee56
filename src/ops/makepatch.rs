//! `gport makepatch NAME`: after a porter edited the work dir that `gport
//! extract NAME` prepared, regenerate the port's patches from the difference
//! to the pristine source.
//!
//! Each patch keeps its header and its files (a changed file goes back to
//! the patch that already touches it); changed files no patch touches get a
//! new patch each, with a DEP-3 header to fill in, listed in port.toml.
//! Overlay files are not diffed (they live in files/). Output is
//! deterministic, so a second run changes nothing; a patch whose files no
//! longer differ is reported as empty and left for the porter to drop.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use crate::atomic::write_file;
use crate::build;
use crate::config::Settings;
use crate::error::{Error, IoContext, Result};
use crate::extract;
use crate::fetch::Fetcher;
use crate::patch::{self, Target};
use crate::tree::Tree;

/// What happened to each patch.
#[derive(Debug, Default)]
pub struct Report {
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub created: Vec<String>,
    /// Patches whose files no longer differ from the pristine source.
    pub empty: Vec<String>,
}

pub fn makepatch(settings: &Settings, name: &str) -> Result<Report> {
    let tree = Tree::open(&settings.tree)?;
    let port = tree.load(name)?;
    let id = port.package_id();
    let work_src = settings.workdir.join(&id).join("src");
    if !work_src.is_dir() {
        return Err(Error::Invalid {
            path: work_src,
            message: format!("no work dir to diff; run `gport extract {name}` and edit it first"),
        });
    }
    let srcdir_of = |src: &Path| -> Result<PathBuf> {
        Ok(match &port.build.srcdir {
            Some(d) => src.join(d.as_path()),
            None => build::single_top_dir(src)?,
        })
    };
    let edited = srcdir_of(&work_src)?;

    // The pristine source, unpacked beside the work dir.
    let fetcher = Fetcher::new(settings);
    let files = fetcher.fetch_all(&port)?;
    let pristine_root = tempfile::Builder::new()
        .prefix(&format!(".{id}-pristine-"))
        .tempdir_in(&settings.workdir)
        .at("create a directory in", &settings.workdir)?;
    for (src, file) in port.sources.iter().zip(&files) {
        if src.extract {
            extract::extract(file, pristine_root.path())?;
        }
    }
    let pristine = srcdir_of(pristine_root.path())?;

    let overlays: BTreeSet<String> = port
        .overlays
        .iter()
        .map(|o| o.as_path().display().to_string())
        .collect();
    let mut changed: BTreeMap<String, (Option<Vec<u8>>, Option<Vec<u8>>)> = BTreeMap::new();
    let mut paths = BTreeSet::new();
    list_files(&pristine, "", &mut paths)?;
    list_files(&edited, "", &mut paths)?;
    for p in paths {
        if overlays.contains(&p) {
            continue;
        }
        let (a, b) = (
            fs::read(pristine.join(&p)).ok(),
            fs::read(edited.join(&p)).ok(),
        );
        if a != b {
            changed.insert(p, (a, b));
        }
    }

    // Which patch owns which file.
    let mut owner: BTreeMap<String, usize> = BTreeMap::new();
    let mut headers = Vec::new();
    for (i, pr) in port.patches.iter().enumerate() {
        let path = port.patch_path(pr);
        let bytes = fs::read(&path).at("read", &path)?;
        let diffs = patch::parse(&bytes, pr.strip).map_err(|message| Error::PatchParse {
            patch: path.clone(),
            message,
        })?;
        let mut mine = Vec::new();
        for d in diffs {
            let f = match d.target {
                Target::Create(p) | Target::Delete(p) => p,
                Target::Modify { modified, .. } => modified,
                Target::Rename { to, .. } | Target::Copy { to, .. } => to,
            };
            if let Some(other) = owner.insert(f.clone(), i) {
                if other != i {
                    return Err(Error::Invalid {
                        path,
                        message: format!(
                            "{f} is also changed by {}; makepatch keeps each file in one patch",
                            port.patches[other].file.get_ref().as_path().display()
                        ),
                    });
                }
            }
            mine.push(f);
        }
        headers.push((header_of(&bytes), mine, pr.strip, path));
    }

    let mut report = Report::default();
    for (i, (header, files, strip, path)) in headers.into_iter().enumerate() {
        let mut text = header;
        let mut any = false;
        for f in files.iter().chain(
            changed
                .keys()
                .filter(|k| owner.get(*k) == Some(&i) && !files.contains(k)),
        ) {
            if let Some((a, b)) = changed.get(f) {
                text.extend(diff(f, a.as_deref(), b.as_deref(), strip)?);
                any = true;
            }
        }
        let shown = port.patches[i]
            .file
            .get_ref()
            .as_path()
            .display()
            .to_string();
        if !any {
            report.empty.push(shown);
            continue;
        }
        if fs::read(&path).ok().as_deref() == Some(&text[..]) {
            report.unchanged.push(shown);
        } else {
            if !settings.dry_run {
                write_file(&path, &text, 0o644)?;
            }
            report.updated.push(shown);
        }
    }

    // Changed files no patch touches: one new patch each.
    let mut toml_add = String::new();
    for (f, (a, b)) in changed.iter().filter(|(k, _)| !owner.contains_key(*k)) {
        let name = format!("{}.patch", f.replace('/', "-"));
        let mut text = format!(
            "Description: TODO: why this change is needed\nOrigin: vendor, gport\nForwarded: no\nAuthor: TODO\nLast-Update: {}\n\n",
            crate::journal::format_time(now()).split(' ').next().unwrap_or_default()
        )
        .into_bytes();
        text.extend(diff(f, a.as_deref(), b.as_deref(), 1)?);
        if !settings.dry_run {
            fs::create_dir_all(port.dir.join("patches")).at("create", &port.dir.join("patches"))?;
            write_file(&port.dir.join("patches").join(&name), &text, 0o644)?;
        }
        toml_add.push_str(&format!("\n[[patch]]\nfile = \"{name}\"\n"));
        report.created.push(name);
    }
    if !toml_add.is_empty() && !settings.dry_run {
        let toml_path = port.dir.join("port.toml");
        let mut toml = fs::read_to_string(&toml_path).at("read", &toml_path)?;
        toml.push_str(&toml_add);
        write_file(&toml_path, toml.as_bytes(), 0o644)?;
    }
    drop(pristine_root);
    Ok(report)
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The text before a patch's first diff (its header), as bytes.
fn header_of(bytes: &[u8]) -> Vec<u8> {
    let mut offset = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if line.starts_with(b"--- ") || line.starts_with(b"diff ") || line.starts_with(b"Index: ") {
            break;
        }
        offset += line.len();
    }
    bytes[..offset].to_vec()
}

/// A unified diff of one file, with `a/`/`b/` prefixes for strip level 1.
fn diff(path: &str, old: Option<&[u8]>, new: Option<&[u8]>, strip: usize) -> Result<Vec<u8>> {
    for side in [old, new].into_iter().flatten() {
        if side.contains(&0) || std::str::from_utf8(side).is_err() {
            return Err(Error::Invalid {
                path: path.into(),
                message: "a binary file changed; ship it as an overlay in files/ instead".into(),
            });
        }
    }
    let (a, b) = if strip == 0 {
        (path.to_string(), path.to_string())
    } else {
        (format!("a/{path}"), format!("b/{path}"))
    };
    let mut opts = diffy::DiffOptions::new();
    opts.set_original_filename(if old.is_some() { a } else { "/dev/null".into() });
    opts.set_modified_filename(if new.is_some() { b } else { "/dev/null".into() });
    // Both sides were checked to be UTF-8 text above.
    let text = |b: Option<&[u8]>| {
        std::str::from_utf8(b.unwrap_or_default())
            .unwrap_or_default()
            .to_string()
    };
    let (old, new) = (text(old), text(new));
    Ok(opts.create_patch(&old, &new).to_string().into_bytes())
}

/// Regular files under `base/rel`, as relative paths.
fn list_files(base: &Path, rel: &str, out: &mut BTreeSet<String>) -> Result<()> {
    let dir = base.join(rel);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(());
    };
    for e in entries {
        let e = e.at("read", &dir)?;
        let name = e.file_name().to_string_lossy().into_owned();
        let r = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let t = e.file_type().at("inspect", &e.path())?;
        if t.is_dir() {
            list_files(base, &r, out)?;
        } else if t.is_file() {
            out.insert(r);
        }
    }
    Ok(())
}
