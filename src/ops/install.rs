//! `gport install`: plan, then for each port (dependencies first) fetch,
//! build, stage into the store, and switch to it.
//!
//! Each package is its own atomic step: a failure leaves the root exactly as
//! the previous step left it (dependencies installed before the failing port
//! stay installed and active — they are complete packages in their own
//! right). The whole run is one journal transaction, so `gport rollback`
//! undoes it as a whole.

use std::fmt;

use crate::build;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::ops::Mutation;
use crate::port::Port;
use crate::store::{STORE_DIR, Staged, Store};
use crate::switch::Plan;
use crate::tree::Tree;
use crate::ui;
use crate::version;

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
            Step::Activate { port, replaces } => {
                write!(
                    f,
                    "{}: activate the installed build{}",
                    port.package_id(),
                    replacing(replaces)
                )
            }
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
                    ", install to /{STORE_DIR}/{}, link{}",
                    port.package_id(),
                    replacing(replaces)
                )
            }
        }
    }
}

impl Step {
    pub fn port(&self) -> Option<&Port> {
        match self {
            Step::UpToDate { .. } => None,
            Step::Activate { port, .. } | Step::Build { port, .. } => Some(port),
        }
    }
}

/// The plan for bringing `ports` (already in dependency order) to the
/// tree's builds: pure data, printed by `--dry-run`.
pub fn plan(settings: &Settings, store: &Store, ports: Vec<Port>) -> Result<Vec<Step>> {
    let fetcher = Fetcher::new(settings);
    let mut steps = Vec::new();
    for port in ports {
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
    // Resolve before locking: an unknown name or a bad port fails fast,
    // without touching the root.
    let ports = tree.resolve(names)?;
    run(settings, &format!("install {}", names.join(" ")), ports)
}

/// `gport upgrade [NAME...]`: every active package (or the named ones) whose
/// tree build is newer, dependencies first. A tree build older than the
/// active one is never "upgraded" to.
pub fn upgrade(settings: &Settings, names: &[String]) -> Result<()> {
    let tree = Tree::open(&settings.tree)?;
    let store = Store::new(&settings.root);
    let mut wanted = Vec::new();
    for inst in store.installed()?.into_iter().filter(|i| i.active) {
        let name = inst.port.name.to_string();
        if !names.is_empty() && !names.contains(&name) {
            continue;
        }
        match tree.load(&name) {
            Ok(p)
                if version::compare_full(&p.full_version(), &inst.port.full_version()).is_gt() =>
            {
                wanted.push(name)
            }
            Ok(_) => {}
            Err(Error::UnknownPort { .. }) => {
                ui::detail(settings, &format!("{name}: no longer in the tree"))
            }
            Err(e) => return Err(e),
        }
    }
    for n in names {
        if store.active(n)?.is_none() {
            return Err(Error::NotInstalled { name: n.clone() });
        }
    }
    if wanted.is_empty() {
        ui::status(settings, "everything is up to date");
        return Ok(());
    }
    // Dependencies come along; one already active at the tree's build or a
    // newer one stays as it is.
    let mut ports = tree.resolve(&wanted)?;
    ports.retain(|p| match store.active(p.name.as_str()).ok().flatten() {
        Some(active) => version::compare_full(&p.full_version(), active_version(&active)).is_gt(),
        None => true,
    });
    run(
        settings,
        &format!("upgrade {}", names.join(" "))
            .trim_end()
            .to_string(),
        ports,
    )
}

fn active_version(id: &str) -> &str {
    id.rsplit_once('-').map_or("", |(_, v)| v)
}

fn run(settings: &Settings, command: &str, ports: Vec<Port>) -> Result<()> {
    if settings.dry_run {
        for step in plan(settings, &Store::new(&settings.root), ports)? {
            println!("{step}");
        }
        return Ok(());
    }
    let mut m = Mutation::begin(settings, command)?;
    let result = (|| {
        for step in plan(settings, &m.store, ports)? {
            match step {
                Step::UpToDate { id } => {
                    ui::status(settings, &format!("{id} is already installed and active"))
                }
                Step::Activate { port, .. } => activate(&mut m, &port, None)?,
                Step::Build { port, .. } => build_and_install(&mut m, &port)?,
            }
        }
        Ok(())
    })();
    m.finish(result)
}

fn build_and_install(m: &mut Mutation, port: &Port) -> Result<()> {
    let settings = m.settings;
    let id = port.package_id();
    let (work, staged_prefix) = build::build(settings, &m.store, port, &id)?;
    ui::status(settings, &format!("installing {id}"));
    let staged = m.store.stage(port, &staged_prefix, &work.log)?;
    activate(m, port, Some(staged))?;
    work.remove()
}

/// Plan the switch (conflicts stop everything here, before any change),
/// commit a freshly staged build if there is one, then switch.
fn activate(m: &mut Mutation, port: &Port, staged: Option<Staged>) -> Result<()> {
    let id = port.package_id();
    let manifest = match &staged {
        Some(s) => s.manifest.clone(),
        None => m.store.manifest(&id)?,
    };
    let plan = Plan::to_build(
        m.settings,
        &m.store,
        port.name.as_str(),
        &id,
        port,
        &manifest,
    )?;
    if let Some(staged) = staged {
        staged.commit()?;
    }
    let root = m.settings.root.clone();
    plan.apply(&root, Some(m.tx()?))?;
    ui::status(m.settings, &format!("{id} is active: {plan}"));
    Ok(())
}
