//! `gport install`: plan, then for each port (dependencies first) fetch,
//! build, stage into the store, and activate.
//!
//! Each package is its own atomic step: a failure leaves the root exactly as
//! the previous step left it (dependencies installed before the failing port
//! stay installed and active — they are complete packages in their own
//! right).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use crate::build::{self, Dep, WorkDir};
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::link::{self, LinkSet};
use crate::lock::Lock;
use crate::port::Port;
use crate::store::{Store, check_destdir};
use crate::tree::Tree;
use crate::ui;

/// What will happen to one port.
#[derive(Debug)]
pub enum Step {
    /// This exact build is installed and active.
    UpToDate { id: String },
    /// This build is installed but not active: only links and the pointer change.
    Activate {
        port: Port,
        replaces: Option<String>,
    },
    /// Fetch, build, install and activate.
    Build {
        port: Port,
        fetch: Vec<String>,
        replaces: Option<String>,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let replacing = |r: &Option<String>| {
            r.as_ref()
                .map(|r| format!(", replacing {r}"))
                .unwrap_or_default()
        };
        match self {
            Step::UpToDate { id } => write!(f, "{id}: already installed and active"),
            Step::Activate { port, replaces } => write!(
                f,
                "{}: activate the installed build{}",
                port.package_id(),
                replacing(replaces)
            ),
            Step::Build {
                port,
                fetch,
                replaces,
            } => {
                write!(f, "{}: ", port.package_id())?;
                if !fetch.is_empty() {
                    write!(f, "fetch {}, ", fetch.join(", "))?;
                }
                let patches = port.patches.len();
                write!(f, "build")?;
                if patches > 0 {
                    write!(
                        f,
                        " ({patches} patch{})",
                        if patches == 1 { "" } else { "es" }
                    )?;
                }
                write!(
                    f,
                    ", install to /{}/{}, link{}",
                    crate::store::STORE_DIR,
                    port.package_id(),
                    replacing(replaces)
                )
            }
        }
    }
}

/// The plan: pure data, printed by `--dry-run`.
pub fn plan(
    settings: &Settings,
    tree: &Tree,
    store: &Store,
    names: &[String],
) -> Result<Vec<Step>> {
    let fetcher = Fetcher::new(settings);
    let mut steps = Vec::new();
    for port in tree.resolve(names)? {
        let id = port.package_id();
        let active = store.active(port.name.as_str())?;
        let replaces = active.clone().filter(|a| *a != id);
        if active.as_deref() == Some(id.as_str()) && store.is_installed(&id) {
            steps.push(Step::UpToDate { id });
        } else if store.is_installed(&id) {
            steps.push(Step::Activate { port, replaces });
        } else {
            let mut fetch = Vec::new();
            for src in &port.sources {
                if !fetcher.is_present(src)? {
                    fetch.push(src.file_name().to_string());
                }
            }
            steps.push(Step::Build {
                port,
                fetch,
                replaces,
            });
        }
    }
    Ok(steps)
}

pub fn install(settings: &Settings, names: &[String]) -> Result<()> {
    let tree = Tree::open(&settings.tree)?;
    let store = Store::new(&settings.root);
    if settings.dry_run {
        for step in plan(settings, &tree, &store, names)? {
            println!("{step}");
        }
        return Ok(());
    }
    // Resolve before locking: an unknown name or a bad port fails fast,
    // without touching the root.
    tree.resolve(names)?;
    let _lock = Lock::acquire(&settings.root, |m| ui::status(settings, m))?;
    store.clean_debris()?;
    for step in plan(settings, &tree, &store, names)? {
        match step {
            Step::UpToDate { id } => {
                ui::status(settings, &format!("{id} is already installed and active"))
            }
            Step::Activate { port, .. } => activate(settings, &store, &port, None)?,
            Step::Build { port, .. } => build_and_install(settings, &store, &port)?,
        }
    }
    Ok(())
}

fn build_and_install(settings: &Settings, store: &Store, port: &Port) -> Result<()> {
    let id = port.package_id();
    let fetcher = Fetcher::new(settings);
    let mut distfiles = Vec::new();
    for src in &port.sources {
        distfiles.push(fetcher.fetch(src)?);
    }
    ui::status(settings, &format!("building {id}"));
    let work = WorkDir::create(settings, port)?;
    let (srcdir, epoch) = build::prepare_source(port, &work, &distfiles)?;
    let deps = dependencies(store, port)?;
    let env = build::environment(settings, port, &work, &srcdir, &deps, epoch);
    build::run_script(port, &work, &srcdir, &env)?;
    let staged_prefix = check_destdir(&id, &work.dest, &build::prefix(port))?;
    ui::status(settings, &format!("installing {id}"));
    let staged = store.stage(port, &staged_prefix, &work.log)?;
    activate(settings, store, port, Some(staged))?;
    work.remove()
}

/// Each dependency's active build, which must be installed by now.
fn dependencies(store: &Store, port: &Port) -> Result<Vec<Dep>> {
    port.depends
        .iter()
        .map(|d| {
            let id = store
                .active(d.as_str())?
                .ok_or_else(|| Error::NotInstalled {
                    name: d.to_string(),
                })?;
            Ok(Dep {
                name: d.to_string(),
                dir: store.package_dir(&id),
            })
        })
        .collect()
}

/// Plan links (conflicts stop everything here, before any change), commit a
/// freshly staged build if there is one, then switch links and pointer.
fn activate(
    settings: &Settings,
    store: &Store,
    port: &Port,
    staged: Option<crate::store::Staged>,
) -> Result<()> {
    let name = port.name.as_str();
    let id = port.package_id();
    let new_manifest = match &staged {
        Some(s) => s.manifest.clone(),
        None => store.manifest(&id)?,
    };
    let new_links = links_of(settings, port, new_manifest.linkable())?;
    let old_links = match store.active(name)? {
        Some(old) if old != id && store.is_installed(&old) => {
            let old_port = store.port_of(&old)?;
            links_of(settings, &old_port, store.manifest(&old)?.linkable())?
        }
        _ => BTreeMap::new(),
    };
    let plan = link::plan(store.root(), name, &id, &new_links, &old_links)?;
    if let Some(staged) = staged {
        staged.commit()?;
    }
    link::apply(store.root(), name, &id, &plan)?;
    let n = new_links.len();
    let plural = if n == 1 { "" } else { "s" };
    ui::status(settings, &format!("{id} is active ({n} link{plural})"));
    Ok(())
}

fn links_of<'a>(
    settings: &Settings,
    port: &Port,
    paths: impl Iterator<Item = &'a std::path::Path>,
) -> Result<BTreeMap<PathBuf, PathBuf>> {
    let set = LinkSet::new(&settings.links, &port.links.extra, &port.links.exclude)?;
    Ok(link::wanted_links(&set, paths))
}
