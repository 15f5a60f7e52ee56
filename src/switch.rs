//! Switching a package's active build: the one operation behind install,
//! upgrade, switch, rollback and remove.
//!
//! The pointer `gales/pkg/NAME` names the active build, and links go through
//! it, so links both builds share switch with one `rename(2)` whatever their
//! number — they are not even read (the manifests say they are shared;
//! `check` verifies). Links that differ are handled so that every link
//! resolves at every instant, whenever gport is killed:
//!
//! 1. before the flip, links only the old build has are removed, and links
//!    that will point to another file are *pinned* straight into the old
//!    build's directory;
//! 2. the pointer flips (or is created, or removed) by one rename;
//! 3. after the flip, links only the new build has are created through the
//!    pointer (they resolve at once), and pinned links are turned to go
//!    through the pointer.
//!
//! Each phase is fsync'd before the next. After a kill, the pointer names
//! exactly the old or the new build, and every existing link resolves;
//! `check --repair` adds what phase 3 had not created yet.

use std::collections::BTreeSet;
use std::fs;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

use crate::atomic::{create_dirs_nofollow, fsync_dir, open_dir_nofollow, parent, replace_symlink};
use crate::config::Settings;
use crate::error::{Conflict, Error, IoContext, Result};
use crate::fault;
use crate::journal::{Switch, Tx};
use crate::link::{self, Inspector, LinkSet, LinkState};
use crate::manifest::Manifest;
use crate::port::Port;
use crate::store::{STORE_DIR, Store};

pub use crate::link::Links;

/// The links a build wants, from its port's link adjustments and manifest.
pub fn links_of(settings: &Settings, port: &Port, manifest: &Manifest) -> Result<Links> {
    let set = LinkSet::new(&settings.links, &port.links.extra, &port.links.exclude)?;
    Ok(link::wanted_links(&set, manifest.linkable()))
}

/// The links an installed build wants.
pub fn links_of_installed(settings: &Settings, store: &Store, id: &str) -> Result<Links> {
    links_of(settings, &store.port_of(id)?, &store.manifest(id)?)
}

/// A planned pointer change, as plain data (printed by `--dry-run`).
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub name: String,
    pub from: Option<String>,
    pub to: Option<String>,
    /// Phase 1: links only the old build has.
    pub drop: Vec<PathBuf>,
    /// Phase 1: link -> symlink text pinned into the old build.
    pub pin: Vec<(PathBuf, PathBuf)>,
    /// Phase 3: absent links created through the pointer.
    pub create: Vec<(PathBuf, PathBuf)>,
    /// Phase 3: existing (pinned, dangling) links turned through the pointer.
    pub set: Vec<(PathBuf, PathBuf)>,
    /// Links shared by both builds: nothing to do, they follow the pointer.
    pub unchanged: usize,
    /// Both builds have the same linkable paths and link rules: every link
    /// is shared, and the switch is the pointer's rename alone.
    pub all_shared: bool,
}

impl Plan {
    /// Plan switching `name` to build `to_id` (whose port and manifest are
    /// given): the common case of identical file lists is recognised from
    /// the manifests alone, without reading a single link.
    pub fn to_build(
        settings: &Settings,
        store: &Store,
        name: &str,
        to_id: &str,
        to_port: &Port,
        to_manifest: &Manifest,
    ) -> Result<Plan> {
        if let Some(from) = store
            .active(name)?
            .filter(|id| store.is_installed(id) && id != to_id)
        {
            let from_port = store.port_of(&from)?;
            if from_port.links == to_port.links
                && store.manifest(&from)?.linkable().eq(to_manifest.linkable())
            {
                return Ok(Plan {
                    name: name.to_string(),
                    from: Some(from),
                    to: Some(to_id.to_string()),
                    all_shared: true,
                    ..Plan::default()
                });
            }
        }
        let links = links_of(settings, to_port, to_manifest)?;
        Plan::new(settings, store, name, Some((to_id, &links)))
    }

    /// Plan switching package `name` from its active build to `to` (None:
    /// deactivate). `to_links` are the links `to` wants. Conflicts are all
    /// collected, then reported together; nothing has changed.
    pub fn new(
        settings: &Settings,
        store: &Store,
        name: &str,
        to: Option<(&str, &Links)>,
    ) -> Result<Plan> {
        let root = store.root();
        let from = store.active(name)?.filter(|id| store.is_installed(id));
        let from_links = match &from {
            Some(id) => links_of_installed(settings, store, id)?,
            None => Links::new(),
        };
        let empty = Links::new();
        let (to_id, to_links) = match to {
            Some((id, links)) => (Some(id.to_string()), links),
            None => (None, &empty),
        };
        let mut plan = Plan {
            name: name.to_string(),
            from: from.clone(),
            to: to_id.clone(),
            ..Plan::default()
        };
        let mut conflicts = Vec::new();
        let mut inspector = Inspector::default();
        let same_build = from.is_some() && from == to_id;

        for (l, rel) in to_links {
            let to_id = to_id.as_deref().expect("links imply a build");
            if from_links.get(l) == Some(rel) && !same_build {
                plan.unchanged += 1;
                continue;
            }
            let through = link::link_target(l, name, rel);
            match inspector.inspect(root, l)? {
                LinkState::Absent => plan.create.push((l.clone(), through)),
                LinkState::Dangling { .. } => plan.set.push((l.clone(), through)),
                LinkState::Package {
                    name: owner,
                    pinned,
                    rel: cur,
                    target,
                } if owner == name => {
                    if pinned.is_none() && target == through && (same_build || from.is_none()) {
                        plan.unchanged += 1;
                        continue;
                    }
                    // It resolves into the old build now; keep it there until the flip.
                    if let (None, Some(from)) = (&pinned, &from) {
                        plan.pin
                            .push((l.clone(), link::pinned_target(l, from, &cur)));
                    }
                    plan.set.push((l.clone(), through));
                }
                LinkState::Package {
                    name: owner,
                    pinned,
                    ..
                } => conflicts.push(Conflict {
                    path: l.clone(),
                    wanted_by: to_id.to_string(),
                    held_by: format!(
                        "package {}",
                        pinned.unwrap_or_else(|| active_or_name(store, &owner))
                    ),
                }),
                LinkState::Foreign(what) => conflicts.push(Conflict {
                    path: l.clone(),
                    wanted_by: to_id.to_string(),
                    held_by: what,
                }),
            }
        }
        if !conflicts.is_empty() {
            return Err(Error::Conflicts { conflicts });
        }
        for l in from_links.keys() {
            if to_links.contains_key(l) {
                continue;
            }
            match inspector.inspect(root, l)? {
                LinkState::Package { name: owner, .. } if owner == name => {
                    plan.drop.push(l.clone())
                }
                LinkState::Dangling { .. } => plan.drop.push(l.clone()),
                _ => {}
            }
        }
        Ok(plan)
    }

    pub fn is_noop(&self) -> bool {
        self.from == self.to
            && self.drop.is_empty()
            && self.pin.is_empty()
            && self.create.is_empty()
            && self.set.is_empty()
    }

    /// Carry out the plan; record the pointer change in `tx`.
    pub fn apply(&self, root: &Path, tx: Option<&mut Tx>) -> Result<()> {
        let mut dirs = BTreeSet::new();
        for l in &self.drop {
            let full = root.join(l);
            fs::remove_file(&full).at("remove link", &full)?;
            dirs.insert(parent(&full).to_path_buf());
            fault::point("switch:dropped");
        }
        for (l, target) in &self.pin {
            replace_symlink(target, &root.join(l))?;
            dirs.insert(parent(&root.join(l)).to_path_buf());
            fault::point("switch:pinned");
        }
        sync_all(&dirs)?;

        let store = root.join(STORE_DIR);
        let pointer = store.join(&self.name);
        if self.from != self.to {
            match &self.to {
                Some(id) => replace_symlink(Path::new(id), &pointer)?,
                None => fs::remove_file(&pointer).at("remove pointer", &pointer)?,
            }
            fsync_dir(&store)?;
            fault::point("switch:flipped");
            if let Some(tx) = tx {
                tx.switched(&Switch {
                    name: self.name.clone(),
                    from: self.from.clone(),
                    to: self.to.clone(),
                })?;
            }
        }

        let mut dirs = create_links(root, &self.create)?;
        for (l, target) in &self.set {
            replace_symlink(target, &root.join(l))?;
            dirs.insert(parent(&root.join(l)).to_path_buf());
            fault::point("switch:linked");
        }
        sync_all(&dirs)
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let d = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        if self.all_shared {
            return write!(
                f,
                "{}: {} -> {} (same files: every link follows the pointer)",
                self.name,
                d(&self.from),
                d(&self.to)
            );
        }
        write!(
            f,
            "{}: {} -> {} ({} links follow the pointer, {} created or retargeted, {} removed)",
            self.name,
            d(&self.from),
            d(&self.to),
            self.unchanged,
            self.create.len() + self.set.len(),
            self.drop.len()
        )
    }
}

/// Create `links` (absent when planned) and return the directories that
/// hold them, to be synced.
fn create_links(root: &Path, links: &[(PathBuf, PathBuf)]) -> Result<BTreeSet<PathBuf>> {
    let mut dirs = BTreeSet::new();
    // Links come sorted, so those of one directory mostly follow each
    // other: the directory is checked and opened once, and each link is
    // made relative to it.
    let mut open: Option<(&Path, OwnedFd)> = None;
    for (l, target) in links {
        let dir = l.parent().unwrap_or(Path::new(""));
        let fd = match &open {
            Some((d, fd)) if d.as_os_str() == dir.as_os_str() => fd,
            _ => {
                create_dirs_nofollow(root, dir)?;
                let full = root.join(dir);
                let fd = open_dir_nofollow(&full)?;
                dirs.insert(full);
                &open.insert((dir, fd)).1
            }
        };
        let name = l.file_name().unwrap_or_default();
        // Absent when planned; symlinkat(2) never replaces, so a file that
        // appeared since is an error, not overwritten.
        nix::unistd::symlinkat(target.as_path(), fd, name)
            .map_err(|e| Error::io("create link", &root.join(l), e.into()))?;
        fault::point("switch:linked");
    }
    Ok(dirs)
}

fn sync_all(dirs: &BTreeSet<PathBuf>) -> Result<()> {
    dirs.iter().try_for_each(|d| fsync_dir(d))
}

fn active_or_name(store: &Store, name: &str) -> String {
    store
        .active(name)
        .ok()
        .flatten()
        .unwrap_or_else(|| name.to_string())
}
