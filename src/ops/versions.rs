//! Moving between installed builds: switch, rollback (of a package or of a
//! whole transaction), remove, gc, and the history they leave.

use std::collections::{BTreeMap, HashSet};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::journal::{self, End, Switch, Transaction};
use crate::ops::Mutation;
use crate::store::{Installed, Store};
use crate::switch::Plan;
use crate::ui;
use crate::version;

/// Plan switching `name` to `to` (None: deactivate).
fn plan_for(settings: &Settings, store: &Store, name: &str, to: Option<&str>) -> Result<Plan> {
    match to {
        Some(id) => Plan::to_build(
            settings,
            store,
            name,
            id,
            &store.port_of(id)?,
            &store.manifest(id)?,
        ),
        None => Plan::new(settings, store, name, None),
    }
}

/// Print what switching `targets` would do.
fn print_plans(settings: &Settings, targets: &[(String, Option<String>)]) -> Result<()> {
    let store = Store::new(&settings.root);
    for (name, to) in targets {
        println!("{}", plan_for(settings, &store, name, to.as_deref())?);
    }
    Ok(())
}

/// Switch each target in turn inside `m`'s transaction, re-planned under
/// the lock (the state may have changed while waiting for it).
fn apply_switches(m: &mut Mutation, targets: &[(String, Option<String>)]) -> Result<()> {
    for (name, to) in targets {
        let plan = plan_for(m.settings, &m.store, name, to.as_deref())?;
        if plan.is_noop() {
            continue;
        }
        let root = m.settings.root.clone();
        plan.apply(&root, Some(m.tx()?))?;
        ui::status(m.settings, &plan.to_string());
    }
    Ok(())
}

/// A sequence of switches as one transaction; `--dry-run` prints the plans.
fn switch_all(
    settings: &Settings,
    command: &str,
    undo_of: Option<u64>,
    targets: &[(String, Option<String>)],
) -> Result<()> {
    if settings.dry_run {
        return print_plans(settings, targets);
    }
    let mut m = Mutation::begin(settings, command)?;
    if let Some(id) = undo_of {
        m = m.undoing(id);
    }
    let result = apply_switches(&mut m, targets);
    m.finish(result)
}

/// The build id for `name` and a version (`5.4.4`, `5.4.4_1`) or an id.
fn build_id(store: &Store, name: &str, version: &str) -> Result<String> {
    let id = if version.starts_with(&format!("{name}-")) {
        version.to_string()
    } else {
        format!("{name}-{version}")
    };
    if store.is_installed(&id) {
        return Ok(id);
    }
    let installed: Vec<String> = builds_of(store, name)?.into_iter().map(|b| b.id).collect();
    Err(Error::NoSuchBuild {
        name: name.to_string(),
        version: version.to_string(),
        installed,
    })
}

fn builds_of(store: &Store, name: &str) -> Result<Vec<Installed>> {
    Ok(store
        .installed()?
        .into_iter()
        .filter(|i| i.port.name.as_str() == name)
        .collect())
}

/// `gport switch NAME VERSION`.
pub fn switch(settings: &Settings, name: &str, version: &str) -> Result<()> {
    let store = Store::new(&settings.root);
    let id = build_id(&store, name, version)?;
    switch_all(
        settings,
        &format!("switch {name} {version}"),
        None,
        &[(name.to_string(), Some(id))],
    )
}

/// `gport rollback NAME`: back to the build that was active before the
/// current one, as the journal remembers it.
pub fn rollback_package(settings: &Settings, name: &str) -> Result<()> {
    let store = Store::new(&settings.root);
    let active = store.active(name)?.ok_or_else(|| Error::NotInstalled {
        name: name.to_string(),
    })?;
    let txs = journal::read(&settings.root)?;
    let last = txs
        .iter()
        .rev()
        .flat_map(|t| t.switches.iter().rev())
        .find(|s| s.name == name && s.to.as_deref() == Some(active.as_str()));
    let previous = match last {
        Some(Switch {
            from: Some(prev), ..
        }) => prev.clone(),
        Some(Switch { from: None, .. }) => {
            return Err(Error::NoRollback {
                name: name.into(),
                why: format!("{active} was its first active build"),
            });
        }
        None => {
            return Err(Error::NoRollback {
                name: name.into(),
                why: format!("the journal records no switch to {active}"),
            });
        }
    };
    if !store.is_installed(&previous) {
        return Err(Error::NoRollback {
            name: name.into(),
            why: format!("the previous build {previous} is no longer installed"),
        });
    }
    switch_all(
        settings,
        &format!("rollback {name}"),
        None,
        &[(name.to_string(), Some(previous))],
    )
}

/// `gport rollback`: undo the newest transaction not undone yet, as a
/// whole. Repeating it walks further back, like an undo stack; undo
/// transactions themselves are not undone by it (switch does that).
pub fn rollback_transaction(settings: &Settings) -> Result<()> {
    let store = Store::new(&settings.root);
    let txs = journal::read(&settings.root)?;
    let undone: HashSet<u64> = txs
        .iter()
        .filter(|t| t.end == End::Committed)
        .filter_map(|t| t.undo_of)
        .collect();
    let target = txs
        .iter()
        .rev()
        .find(|t| t.undo_of.is_none() && !undone.contains(&t.id) && !t.switches.is_empty())
        .ok_or_else(|| Error::NoRollback {
            name: "the last transaction".into(),
            why: "the journal holds nothing to undo".into(),
        })?;
    let targets = undo_targets(&store, target)?;
    switch_all(
        settings,
        &format!("rollback #{} ({})", target.id, target.command),
        Some(target.id),
        &targets,
    )
}

/// The switches that undo `t`, newest first, after checking that nothing
/// has moved since and that every build to return to is still there.
fn undo_targets(store: &Store, t: &Transaction) -> Result<Vec<(String, Option<String>)>> {
    let cannot = |why: String| Error::NoRollback {
        name: format!("transaction #{} ({})", t.id, t.command),
        why,
    };
    // A package switched twice in one transaction returns to its first `from`.
    let mut first_from: BTreeMap<&str, &Option<String>> = BTreeMap::new();
    let mut last_to: BTreeMap<&str, &Option<String>> = BTreeMap::new();
    let mut order = Vec::new();
    for s in &t.switches {
        if !first_from.contains_key(s.name.as_str()) {
            first_from.insert(&s.name, &s.from);
            order.push(s.name.as_str());
        }
        last_to.insert(&s.name, &s.to);
    }
    let mut out = Vec::new();
    for name in order.into_iter().rev() {
        let now = store.active(name)?;
        if &now != last_to[name] {
            return Err(cannot(format!(
                "{name} is now {}, not what that transaction left; undo later changes first, or use `gport switch`",
                now.as_deref().unwrap_or("inactive")
            )));
        }
        let back = first_from[name].clone();
        if let Some(id) = &back {
            if !store.is_installed(id) {
                return Err(cannot(format!("{id} is no longer installed")));
            }
        }
        out.push((name.to_string(), back));
    }
    Ok(out)
}

/// `gport history`: the journal's transactions, oldest first.
pub fn history(settings: &Settings) -> Result<Vec<Transaction>> {
    journal::read(&settings.root)
}

/// `gport remove NAME...`: deactivate, then delete every build. Refused
/// while an active package declares NAME in `runtime-depends`, unless forced.
pub fn remove(settings: &Settings, names: &[String], force: bool) -> Result<()> {
    let store = Store::new(&settings.root);
    let installed = store.installed()?;
    for name in names {
        if !installed.iter().any(|i| i.port.name.as_str() == name) {
            return Err(Error::NotInstalled { name: name.clone() });
        }
        let users: Vec<String> = installed
            .iter()
            .filter(|i| i.active && !names.contains(&i.port.name.to_string()))
            .filter(|i| i.port.runtime_depends.iter().any(|d| d.as_str() == name))
            .map(|i| i.id.clone())
            .collect();
        if !users.is_empty() && !force {
            return Err(Error::Required {
                name: name.clone(),
                by: users,
            });
        }
    }
    let targets: Vec<(String, Option<String>)> = names.iter().map(|n| (n.clone(), None)).collect();
    if settings.dry_run {
        print_plans(settings, &targets)?;
        for i in installed
            .iter()
            .filter(|i| names.contains(&i.port.name.to_string()))
        {
            println!("delete /{}/{}", crate::store::STORE_DIR, i.id);
        }
        return Ok(());
    }
    let mut m = Mutation::begin(settings, &format!("remove {}", names.join(" ")))?;
    let result = (|| {
        apply_switches(&mut m, &targets)?;
        for name in names {
            for b in builds_of(&m.store, name)? {
                m.store.delete_build(&b.id)?;
                ui::status(settings, &format!("deleted {}", b.id));
            }
        }
        Ok(())
    })();
    m.finish(result)
}

/// `gport gc [--keep N]`: delete inactive builds, keeping the N newest
/// inactive builds of each package (by version) for rollback.
pub fn gc(settings: &Settings, keep: usize) -> Result<Vec<String>> {
    let plan = |store: &Store| -> Result<Vec<String>> {
        let mut by_name: BTreeMap<String, Vec<Installed>> = BTreeMap::new();
        for i in store.installed()?.into_iter().filter(|i| !i.active) {
            by_name.entry(i.port.name.to_string()).or_default().push(i);
        }
        let mut doomed = Vec::new();
        for (_, mut builds) in by_name {
            builds.sort_by(|a, b| {
                version::compare_full(&b.port.full_version(), &a.port.full_version())
            });
            doomed.extend(builds.into_iter().skip(keep).map(|b| b.id));
        }
        Ok(doomed)
    };
    if settings.dry_run {
        return plan(&Store::new(&settings.root));
    }
    let m = Mutation::begin(settings, "gc")?;
    let doomed = plan(&m.store)?;
    for id in &doomed {
        m.store.delete_build(id)?;
    }
    Ok(doomed)
}
