//! Read-only questions: list, info, deps, files, owner. None takes the lock;
//! every answer comes from the tree or from reading the store's links.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::Settings;
use crate::error::{Error, IoContext, Result};
use crate::link::{self, LinkSet, LinkState};
use crate::manifest::Kind;
use crate::store::{STORE_DIR, Store};
use crate::tree::Tree;

/// One row of `gport list`.
#[derive(Debug, Serialize)]
pub struct InstalledRow {
    pub name: String,
    pub version: String,
    pub active: bool,
}

pub fn installed(settings: &Settings) -> Result<Vec<InstalledRow>> {
    Ok(Store::new(&settings.root)
        .installed()?
        .into_iter()
        .map(|i| InstalledRow {
            name: i.port.name.to_string(),
            version: i.port.full_version(),
            active: i.active,
        })
        .collect())
}

/// One row of `gport list --available`.
#[derive(Debug, Serialize)]
pub struct AvailableRow {
    pub name: String,
    pub version: String,
    pub category: String,
    pub summary: String,
}

pub fn available(settings: &Settings) -> Result<Vec<AvailableRow>> {
    let tree = Tree::open(&settings.tree)?;
    tree.names()
        .map(|n| {
            let p = tree.load(n)?;
            Ok(AvailableRow {
                name: n.to_string(),
                version: p.full_version(),
                category: tree.category(n).unwrap_or_default().to_string(),
                summary: p.summary,
            })
        })
        .collect()
}

/// `gport info NAME`: the port, and which of its builds are installed.
#[derive(Debug, Serialize)]
pub struct PortInfo {
    pub name: String,
    pub version: String,
    pub summary: String,
    pub homepage: String,
    pub license: String,
    pub category: String,
    pub depends: Vec<String>,
    pub runtime_depends: Vec<String>,
    pub sources: Vec<SourceInfo>,
    pub patches: Vec<String>,
    pub overlays: Vec<String>,
    pub installed: Vec<BuildInfo>,
}

#[derive(Debug, Serialize)]
pub struct SourceInfo {
    pub file: String,
    pub size: u64,
    pub sha256: String,
    pub urls: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BuildInfo {
    pub id: String,
    pub active: bool,
    /// SHA-256 over the build's sorted paths, types, modes and contents.
    pub tree_hash: String,
}

pub fn info(settings: &Settings, name: &str) -> Result<PortInfo> {
    let tree = Tree::open(&settings.tree)?;
    let store = Store::new(&settings.root);
    let p = tree.load(name)?;
    let names = |v: &[crate::port::Name]| v.iter().map(|n| n.to_string()).collect();
    Ok(PortInfo {
        name: p.name.to_string(),
        version: p.full_version(),
        summary: p.summary.clone(),
        homepage: p.homepage.clone(),
        license: p.license.clone(),
        category: tree.category(name).unwrap_or_default().to_string(),
        depends: names(&p.depends),
        runtime_depends: names(&p.runtime_depends),
        sources: p
            .sources
            .iter()
            .map(|s| SourceInfo {
                file: s.file_name().into(),
                size: s.size,
                sha256: s.sha256.as_str().into(),
                urls: s.urls.clone(),
            })
            .collect(),
        patches: p
            .patches
            .iter()
            .map(|x| x.file.get_ref().as_path().display().to_string())
            .collect(),
        overlays: p
            .overlays
            .iter()
            .map(|o| o.as_path().display().to_string())
            .collect(),
        installed: store
            .installed()?
            .into_iter()
            .filter(|i| i.port.name.as_str() == name)
            .map(|i| {
                Ok(BuildInfo {
                    tree_hash: store.manifest(&i.id)?.tree_hash(),
                    id: i.id,
                    active: i.active,
                })
            })
            .collect::<Result<_>>()?,
    })
}

/// One row of `gport deps NAME`.
#[derive(Debug, Serialize)]
pub struct DepRow {
    pub name: String,
    pub version: String,
    pub id: String,
}

/// `gport deps NAME`: the install order of NAME's dependency closure,
/// dependencies first, NAME itself last.
pub fn deps(settings: &Settings, name: &str) -> Result<Vec<DepRow>> {
    let tree = Tree::open(&settings.tree)?;
    Ok(tree
        .resolve(&[name.to_string()])?
        .into_iter()
        .map(|p| DepRow {
            name: p.name.to_string(),
            version: p.full_version(),
            id: p.package_id(),
        })
        .collect())
}

/// One row of `gport files NAME`.
#[derive(Debug, Serialize)]
pub struct FileRow {
    /// The file's path on the target, e.g. `/gales/pkg/lua-5.4.4/bin/lua`.
    pub path: PathBuf,
    /// Where it is linked, e.g. `/usr/bin/lua`, if it is.
    pub link: Option<PathBuf>,
}

/// The active build's files (directories left out), with their links.
pub fn files(settings: &Settings, name: &str) -> Result<Vec<FileRow>> {
    let store = Store::new(&settings.root);
    let id = store.active(name)?.ok_or_else(|| Error::NotInstalled {
        name: name.to_string(),
    })?;
    let port = store.port_of(&id)?;
    let set = LinkSet::new(&settings.links, &port.links.extra, &port.links.exclude)?;
    let mut rows = Vec::new();
    for e in store.manifest(&id)?.entries {
        if matches!(e.kind, Kind::Dir) {
            continue;
        }
        // Report a link only if it is really there and really this package's.
        let link = set.link_path(&e.path).filter(|l| {
            matches!(link::inspect(&settings.root, l), Ok(LinkState::Package { name: ref n, .. }) if n == name)
        });
        rows.push(FileRow {
            path: Path::new("/").join(STORE_DIR).join(&id).join(&e.path),
            link: link.map(|l| Path::new("/").join(l)),
        });
    }
    Ok(rows)
}

/// `gport owner PATH`.
#[derive(Debug, Serialize)]
pub struct Owner {
    /// The path asked about, as given.
    pub path: PathBuf,
    /// The owning build, `NAME-VERSION`.
    pub build: String,
    /// The file inside the store it is, e.g. `/gales/pkg/lua-5.4.4/bin/lua`.
    pub file: PathBuf,
}

/// Which build a path belongs to, read from the link (or from the path
/// itself when it lies inside the store).
pub fn owner(settings: &Settings, path: &Path) -> Result<Owner> {
    let rel: PathBuf = path
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .collect();
    let store = Store::new(&settings.root);
    let not_owned = || Error::NotOwned {
        path: path.to_path_buf(),
    };
    let (via, rest) = match link::store_component(&rel) {
        Some(found) => found,
        None => match link::inspect(&settings.root, &rel)? {
            LinkState::Package {
                name, pinned, rel, ..
            } => (pinned.unwrap_or(name), rel),
            _ => return Err(not_owned()),
        },
    };
    // Through a pointer: name the active build.
    let id = match store.active(&via) {
        Ok(Some(id)) => id,
        _ if store.is_installed(&via) => via,
        _ => return Err(not_owned()),
    };
    let full = store.package_dir(&id).join(&rest);
    fs::symlink_metadata(&full).at("inspect", &full)?;
    Ok(Owner {
        path: path.to_path_buf(),
        file: Path::new("/").join(STORE_DIR).join(&id).join(&rest),
        build: id,
    })
}

/// One row of `gport outdated`.
#[derive(Debug, Serialize)]
pub struct OutdatedRow {
    pub name: String,
    pub active: String,
    pub tree: String,
}

/// Active packages whose tree build is newer (what `upgrade` would do).
pub fn outdated(settings: &Settings) -> Result<Vec<OutdatedRow>> {
    let tree = Tree::open(&settings.tree)?;
    let mut out = Vec::new();
    for i in Store::new(&settings.root)
        .installed()?
        .into_iter()
        .filter(|i| i.active)
    {
        let Ok(p) = tree.load(i.port.name.as_str()) else {
            continue;
        };
        if crate::version::compare_full(&p.full_version(), &i.port.full_version()).is_gt() {
            out.push(OutdatedRow {
                name: p.name.to_string(),
                active: i.port.full_version(),
                tree: p.full_version(),
            });
        }
    }
    Ok(out)
}

/// Ports whose name or summary contains `term`, case-insensitively.
pub fn search(settings: &Settings, term: &str) -> Result<Vec<AvailableRow>> {
    let t = term.to_lowercase();
    Ok(available(settings)?
        .into_iter()
        .filter(|r| r.name.contains(&t) || r.summary.to_lowercase().contains(&t))
        .collect())
}
