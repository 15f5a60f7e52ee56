//! `gport build [--check] NAME`: build a port without installing it; with
//! `--check`, build it twice — in different work dirs, at different times —
//! and compare the results.

use std::path::PathBuf;

use crate::build;
use crate::config::Settings;
use crate::error::{Error, Result};
use crate::reproduce::{Difference, compare};
use crate::store::{Store, manifest_of_staged};
use crate::tree::Tree;
use crate::ui;

pub struct Built {
    pub id: String,
    pub staged: PathBuf,
    pub tree_hash: String,
    pub files: usize,
}

/// Build once; the result stays in the work dir.
pub fn build_only(settings: &Settings, name: &str) -> Result<Built> {
    let port = Tree::open(&settings.tree)?.load(name)?;
    let id = port.package_id();
    let (_work, staged) = build::build(settings, &Store::new(&settings.root), &port, &id)?;
    let m = manifest_of_staged(&id, &staged)?;
    Ok(Built {
        tree_hash: m.tree_hash(),
        files: m.entries.len(),
        staged,
        id,
    })
}

pub struct Check {
    pub id: String,
    pub tree_hashes: (String, String),
    pub differences: Vec<Difference>,
    /// The port's documented reason, if it is known not to reproduce.
    pub known_reason: Option<String>,
}

pub fn check(settings: &Settings, name: &str) -> Result<Check> {
    let port = Tree::open(&settings.tree)?.load(name)?;
    let id = port.package_id();
    let store = Store::new(&settings.root);
    let (_w1, first) = build::build(settings, &store, &port, &format!("{id}.check-a"))?;
    // A later second: embedded times differ even at one-second resolution.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    ui::status(
        settings,
        &format!("building {id} again, elsewhere, to compare"),
    );
    let (_w2, second) = build::build(settings, &store, &port, &format!("{id}.check-bb"))?;
    let (ma, mb) = (
        manifest_of_staged(&id, &first)?,
        manifest_of_staged(&id, &second)?,
    );
    let differences = compare(&first, &ma, &second, &mb);
    let result = Check {
        tree_hashes: (ma.tree_hash(), mb.tree_hash()),
        differences,
        known_reason: port.build.unreproducible.clone(),
        id,
    };
    for w in [_w1, _w2] {
        w.remove()?;
    }
    Ok(result)
}

pub fn not_reproducible(c: &Check) -> Error {
    Error::NotReproducible {
        package: c.id.clone(),
        count: c.differences.len(),
    }
}
