//! `gport check [--repair]`: compare the links with the active builds and
//! every build with its manifest; report what disagrees, and with
//! `--repair` converge to a consistent state without touching anything gport
//! did not create.
//!
//! What repair does: finish interrupted switches (pinned links turned to go
//! through the pointer, links the active build wants created, links no
//! active build wants removed), delete debris of killed runs, drop pointers
//! to missing builds, and close interrupted journal transactions. What it
//! never does: touch a foreign file at a link path (reported as a conflict),
//! or "fix" a modified file inside a build (reported; reinstall it).

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::atomic::{fsync_dir, remove_tree, replace_symlink};
use crate::config::Settings;
use crate::error::{IoContext, Result};
use crate::hash::hash_file;
use crate::journal::{self, End};
use crate::link::{self, LinkState};
use crate::lock::Lock;
use crate::manifest::Kind;
use crate::store::{META_DIR, REMOVING_PREFIX, STAGING_PREFIX, STORE_DIR, Store};
use crate::switch::{Links, links_of_installed};
use crate::ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Problem {
    /// A pointer to a build that is not installed.
    DanglingPointer,
    /// A link the active build wants is missing.
    MissingLink,
    /// A link of the right package that does not go through its pointer to
    /// the right file (an interrupted switch).
    UnfinishedLink,
    /// A link into the store no active build wants, or that dangles.
    StaleLink,
    /// A wanted link path held by a foreign file or another package.
    Conflict,
    /// An installed file that differs from its manifest.
    Modified,
    /// Leftovers of a killed run.
    Debris,
    /// A journal transaction that never ended.
    Interrupted,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Problem::DanglingPointer => "dangling-pointer",
            Problem::MissingLink => "missing-link",
            Problem::UnfinishedLink => "unfinished-link",
            Problem::StaleLink => "stale-link",
            Problem::Conflict => "conflict",
            Problem::Modified => "modified",
            Problem::Debris => "debris",
            Problem::Interrupted => "interrupted",
        })
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    pub kind: Problem,
    /// Root-relative path (or `journal#N`).
    pub path: PathBuf,
    pub detail: String,
    pub repaired: bool,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<16} /{}  {}",
            self.kind.to_string(),
            self.path.display(),
            self.detail
        )?;
        if self.repaired {
            f.write_str("  [repaired]")?;
        }
        Ok(())
    }
}

/// Run the check; with `repair`, take the lock and repair as it goes.
pub fn check(settings: &Settings, repair: bool) -> Result<Vec<Finding>> {
    // Repair takes the lock; a plain check only reads. Debris is not
    // cleared on taking the lock here: it is reported first.
    let _lock = if repair {
        Some(Lock::acquire(&settings.root, |m| ui::status(settings, m))?)
    } else {
        None
    };
    let store = Store::new(&settings.root);
    let root = &settings.root;
    let mut out = Vec::new();
    let mut note = |kind, path: PathBuf, detail: String, repaired| {
        out.push(Finding {
            kind,
            path,
            detail,
            repaired,
        })
    };

    // Debris in the store.
    if let Ok(entries) = fs::read_dir(store.dir()) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(STAGING_PREFIX)
                || n.starts_with(REMOVING_PREFIX)
                || n.contains(".gport-tmp.")
            {
                let p = e.path();
                if repair {
                    remove_tree(&p)?;
                }
                note(
                    Problem::Debris,
                    rel(root, &p),
                    "left by a killed run".into(),
                    repair,
                );
            }
        }
    }

    // Pointers, and the links each active build wants.
    let mut wanted: BTreeMap<String, Links> = BTreeMap::new();
    let mut extra_dirs = Vec::new();
    if let Ok(entries) = fs::read_dir(store.dir()) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !e.file_type().is_ok_and(|t| t.is_symlink()) {
                continue;
            }
            let id = store.active(&name)?.unwrap_or_default();
            if !store.is_installed(&id) {
                if repair {
                    fs::remove_file(e.path()).at("remove pointer", &e.path())?;
                    fsync_dir(&store.dir())?;
                }
                note(
                    Problem::DanglingPointer,
                    rel(root, &e.path()),
                    format!("points to {id}, which is not installed"),
                    repair,
                );
                continue;
            }
            let port = store.port_of(&id)?;
            extra_dirs.extend(port.links.extra.iter().map(|r| PathBuf::from(&r.to)));
            wanted.insert(name, links_of_installed(settings, &store, &id)?);
        }
    }
    for (name, links) in &wanted {
        for (l, r) in links {
            let through = link::link_target(l, name, r);
            match link::inspect(root, l)? {
                LinkState::Package {
                    name: owner,
                    pinned: None,
                    target,
                    ..
                } if owner == *name && target == through => {}
                LinkState::Package { name: owner, .. } if owner == *name => {
                    if repair {
                        replace_symlink(&through, &root.join(l))?;
                    }
                    note(
                        Problem::UnfinishedLink,
                        l.clone(),
                        format!("should point to {}", through.display()),
                        repair,
                    );
                }
                LinkState::Absent | LinkState::Dangling { .. } => {
                    if repair {
                        crate::atomic::create_dirs_nofollow(
                            root,
                            l.parent().unwrap_or(Path::new("")),
                        )?;
                        replace_symlink(&through, &root.join(l))?;
                    }
                    note(
                        Problem::MissingLink,
                        l.clone(),
                        format!("{name} wants it"),
                        repair,
                    );
                }
                LinkState::Package { name: owner, .. } => note(
                    Problem::Conflict,
                    l.clone(),
                    format!("wanted by {name}, held by package {owner}"),
                    false,
                ),
                LinkState::Foreign(what) => note(
                    Problem::Conflict,
                    l.clone(),
                    format!("wanted by {name}, held by {what}"),
                    false,
                ),
            }
        }
    }

    // Links into the store that no active build wants.
    let mut dirs: Vec<PathBuf> = settings
        .links
        .iter()
        .map(|r| PathBuf::from(&r.to))
        .chain(extra_dirs)
        .collect();
    dirs.sort();
    dirs.dedup();
    let mut seen = std::collections::HashSet::new();
    for d in dirs {
        for l in symlinks_under(root, &d) {
            if !seen.insert(l.clone()) {
                continue;
            }
            let n = l
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let stale = match link::inspect(root, &l)? {
                LinkState::Dangling { target } => Some(format!("dangles: {}", target.display())),
                LinkState::Package { name, .. }
                    if !wanted.get(&name).is_some_and(|w| w.contains_key(&l)) =>
                {
                    Some(format!("belongs to {name}, which does not want it active"))
                }
                _ if n.contains(".gport-tmp.") => {
                    Some("temporary link left by a killed run".into())
                }
                _ => None,
            };
            if let Some(detail) = stale {
                if repair {
                    fs::remove_file(root.join(&l)).at("remove link", &root.join(&l))?;
                }
                note(Problem::StaleLink, l, detail, repair);
            }
        }
    }

    // Every build against its manifest.
    for b in store.installed()? {
        for (path, detail) in verify_build(&store, &b.id)? {
            note(Problem::Modified, path, detail, false);
        }
    }

    // Transactions that never ended.
    for t in journal::read(root)?
        .iter()
        .filter(|t| t.end == End::Interrupted)
    {
        if repair {
            journal::abort(root, t.id)?;
        }
        note(
            Problem::Interrupted,
            PathBuf::from(format!("{STORE_DIR}/.gport/journal#{}", t.id)),
            format!("transaction '{}' was interrupted", t.command),
            repair,
        );
    }
    Ok(out)
}

fn rel(root: &Path, p: &Path) -> PathBuf {
    p.strip_prefix(root).unwrap_or(p).to_path_buf()
}

/// Root-relative symlinks under root-relative `dir`, not following
/// symlinked directories.
fn symlinks_under(root: &Path, dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(root.join(dir)) else {
        return out;
    };
    for e in entries.flatten() {
        let Ok(t) = e.file_type() else { continue };
        let r = dir.join(e.file_name());
        if t.is_symlink() {
            out.push(r);
        } else if t.is_dir() {
            out.extend(symlinks_under(root, &r));
        }
    }
    out
}

/// Differences between a build's files and its manifest.
fn verify_build(store: &Store, id: &str) -> Result<Vec<(PathBuf, String)>> {
    let dir = store.package_dir(id);
    let manifest = store.manifest(id)?;
    let mut out = Vec::new();
    let shown = |p: &Path| Path::new(STORE_DIR).join(id).join(p);
    let mut listed = std::collections::HashSet::new();
    for e in &manifest.entries {
        listed.insert(e.path.clone());
        let full = dir.join(&e.path);
        let Ok(meta) = fs::symlink_metadata(&full) else {
            out.push((shown(&e.path), "missing".into()));
            continue;
        };
        let problem = match &e.kind {
            Kind::Dir if !meta.is_dir() => Some("no longer a directory".to_string()),
            Kind::Symlink { target } if !meta.file_type().is_symlink() => {
                Some(format!("no longer a symlink to {target}"))
            }
            Kind::Symlink { target } => {
                let now = fs::read_link(&full).at("read link", &full)?;
                (now != Path::new(target))
                    .then(|| format!("symlink now points to {}, not {target}", now.display()))
            }
            Kind::File { .. } if !meta.is_file() => Some("no longer a regular file".into()),
            Kind::File { size, sha256 } => {
                if meta.len() != *size {
                    Some(format!("size {} instead of {size}", meta.len()))
                } else if meta.permissions().mode() & 0o7777 != e.mode {
                    Some(format!(
                        "mode {:04o} instead of {:04o}",
                        meta.permissions().mode() & 0o7777,
                        e.mode
                    ))
                } else if hash_file(&full)?.0 != *sha256 {
                    Some("content differs from the manifest's sha256".into())
                } else {
                    None
                }
            }
            Kind::Dir => None,
        };
        if let Some(p) = problem {
            out.push((shown(&e.path), p));
        }
    }
    for extra in files_under(&dir, Path::new("")) {
        if !listed.contains(&extra) && !extra.starts_with(META_DIR) {
            out.push((shown(&extra), "not in the manifest".into()));
        }
    }
    Ok(out)
}

fn files_under(base: &Path, rel: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(base.join(rel)) else {
        return out;
    };
    for e in entries.flatten() {
        let r = rel.join(e.file_name());
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(files_under(base, &r));
        }
        out.push(r);
    }
    out
}
