//! Mirror keeper verbs: index, sync, import.

use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::mirror::import::{self, Wanted};
use crate::mirror::index::{INDEX, Index};
use crate::mirror::sync::{self, Options, Report, Source};
use crate::tree::Tree;
use crate::ui;

/// `gport mirror index DIR`: hash every file and write `DIR/INDEX`.
pub fn index(settings: &Settings, dir: &Path) -> Result<Index> {
    let idx = Index::scan(dir, None)?;
    if !settings.dry_run {
        idx.write(dir)?;
    }
    Ok(idx)
}

/// `gport mirror sync SOURCE DIR`. Returns the report; an incomplete sync
/// (conflicts, refused paths, failed downloads) is an error after it.
pub fn sync(settings: &Settings, source: &str, dir: &Path, verify: bool) -> Result<Report> {
    let src = Source::new(source);
    if settings.dry_run {
        let remote = src.index()?;
        println!(
            "{}: {} files listed; nothing changed (dry run)",
            source,
            remote.entries.len()
        );
        return Ok(Report::default());
    }
    let opts = Options {
        jobs: settings.jobs.max(4),
        verify,
    };
    let progress = |m: &str| ui::detail(settings, m);
    sync::sync(&src, dir, &opts, &progress)
}

pub fn incomplete(r: &Report) -> Error {
    Error::SyncIncomplete {
        conflicts: r.conflicts.len(),
        refused: r.refused.len(),
        failed: r.failed.len(),
    }
}

/// `gport mirror import SRC... [--into DIR] [--index FILE]`.
pub fn import(
    settings: &Settings,
    srcs: &[PathBuf],
    into: Option<&Path>,
    index: Option<&Path>,
) -> Result<import::Report> {
    let wanted: Wanted = match index {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::io("read", p, e))?;
            import::wanted_by_index(&Index::parse(&text, &p.display().to_string())?)
        }
        None => import::wanted_by_tree(&Tree::open(&settings.tree)?)?,
    };
    let into = into.unwrap_or(&settings.distfiles);
    let r = import::import(srcs, into, &wanted, settings.dry_run)?;
    if index.is_some() && !r.imported.is_empty() && !settings.dry_run {
        // Keep the receiving mirror's own INDEX true.
        if into.join(INDEX).exists() {
            let known = std::fs::read_to_string(into.join(INDEX))
                .ok()
                .and_then(|t| Index::parse(&t, "local").ok());
            Index::scan(into, known.as_ref())?.write(into)?;
        }
    }
    Ok(r)
}
