//! Porter verbs that stop part-way: `fetch` (sources into the store) and
//! `extract` (a prepared, patched work dir to edit and diff against).

use std::path::PathBuf;

use crate::build::{self, WorkDir};
use crate::config::Settings;
use crate::error::Result;
use crate::fetch::Fetcher;
use crate::tree::Tree;
use crate::ui;

/// Fetch and verify every source of `names` (not their dependencies).
pub fn fetch(settings: &Settings, names: &[String]) -> Result<Vec<PathBuf>> {
    let tree = Tree::open(&settings.tree)?;
    let fetcher = Fetcher::new(settings);
    let mut out = Vec::new();
    for name in names {
        let port = tree.load(name)?;
        for src in &port.sources {
            if settings.dry_run {
                let state = if fetcher.is_present(src)? {
                    "present"
                } else {
                    "to fetch"
                };
                println!("{}: {state}", src.file_name());
                continue;
            }
            out.push(fetcher.fetch(src)?);
        }
    }
    Ok(out)
}

/// Fetch, unpack, patch and overlay `name` into its work dir; return the
/// source directory.
pub fn extract(settings: &Settings, name: &str) -> Result<PathBuf> {
    let tree = Tree::open(&settings.tree)?;
    let port = tree.load(name)?;
    if settings.dry_run {
        let dir = settings.workdir.join(port.package_id()).join("src");
        println!(
            "would fetch, unpack and patch {} into {}",
            port.package_id(),
            dir.display()
        );
        return Ok(dir);
    }
    let fetcher = Fetcher::new(settings);
    let files = fetcher.fetch_all(&port)?;
    ui::status(settings, &format!("extracting {}", port.package_id()));
    let work = WorkDir::create(settings, &port)?;
    let (srcdir, _) = build::prepare_source(settings, &port, &work, &files)?;
    Ok(srcdir)
}
