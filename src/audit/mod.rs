//! `gport audit`: the whole picture of a tree's patches in one pass.
//!
//! For each patch of each port: does it parse; does it apply to the
//! pristine, checksum-verified source — exactly, at an offset, with fuzz, or
//! not at all (which hunk); or has upstream already applied it (it
//! reverse-applies cleanly); are its DEP-3 headers complete; what does it
//! touch. Patches apply in series, each on the result of the ones before.
//! Also orphan patch files, missing ones, and overlay files. Only the files
//! the patches touch are read, straight from the compressed tarball stream.

pub mod fit;
pub mod header;
pub mod source;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::sync::Mutex;

use diffy::Line;
use serde::Serialize;

use crate::config::Settings;
use crate::error::Result;
use crate::fetch::Fetcher;
use crate::patch::{self, FileDiff, Target};
use crate::port::Port;
use crate::tree::Tree;

/// The most context lines ignored at each end of a hunk, as GNU patch.
pub const MAX_FUZZ: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every hunk at its stated line.
    Applies,
    /// Applies, some hunk at an offset.
    Offset,
    /// Applies only with fuzz.
    Fuzz,
    /// A hunk does not apply.
    Fails,
    /// Does not apply, but reverse-applies cleanly: upstream has it.
    AlreadyApplied,
    /// Not a unified diff gport can read.
    Unparsable,
    /// Listed in port.toml, absent from patches/.
    Missing,
    /// The source could not be fetched and verified, so nothing was tried.
    Unchecked,
}

impl Status {
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Status::Fails
                | Status::Unparsable
                | Status::Missing
                | Status::AlreadyApplied
                | Status::Unchecked
        )
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct HunkReport {
    pub file: String,
    pub hunk: usize,
    pub offset: isize,
    pub fuzz: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PatchReport {
    pub file: String,
    pub status: Status,
    pub detail: Option<String>,
    /// Hunks that landed away from their line or with fuzz.
    pub hunks: Vec<HunkReport>,
    pub headers: BTreeMap<String, String>,
    pub missing_headers: Vec<String>,
    /// accepted | forwarded | not-needed | local-only | unknown
    pub upstream: String,
    pub files: Vec<String>,
    pub added: usize,
    pub removed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct OverlayReport {
    pub path: String,
    /// True if it replaces a file of the pristine source, false if it adds one.
    pub replaces: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortReport {
    pub name: String,
    pub version: String,
    pub patches: Vec<PatchReport>,
    /// Files in patches/ that port.toml does not list.
    pub orphans: Vec<String>,
    pub overlays: Vec<OverlayReport>,
    /// Why the port could not be audited (not loadable, source unavailable).
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub ports: usize,
    pub ports_with_patches: usize,
    pub patches: usize,
    pub added: usize,
    pub removed: usize,
    /// Patches by upstream status.
    pub upstream: BTreeMap<String, usize>,
    pub failing: usize,
    pub incomplete_headers: usize,
    pub orphans: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub ports: Vec<PortReport>,
    pub summary: Summary,
}

impl Audit {
    /// Does the audit fail (exit non-zero)?
    pub fn failed(&self) -> bool {
        self.summary.failing > 0
            || self.summary.incomplete_headers > 0
            || self.summary.orphans > 0
            || self.ports.iter().any(|p| p.error.is_some())
    }
}

/// Audit `names` (every port when empty), `jobs` ports at a time.
pub fn audit(settings: &Settings, names: &[String], strict: bool) -> Result<Audit> {
    let tree = Tree::open(&settings.tree)?;
    let names: Vec<String> = if names.is_empty() {
        tree.names().map(String::from).collect()
    } else {
        names.to_vec()
    };
    for n in &names {
        tree.dir_of(n)?;
    }
    let queue = Mutex::new(names.iter().enumerate().collect::<Vec<_>>());
    let done = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..settings.jobs.max(1) {
            s.spawn(|| {
                loop {
                    // Take the next port in its own statement: a guard in a
                    // `while let` header would hold the lock for the whole
                    // audit of the port, serialising the workers.
                    let next = queue.lock().expect("queue").pop();
                    let Some((i, name)) = next else { break };
                    let r = audit_port(settings, &tree, name, strict);
                    done.lock().expect("done").push((i, r));
                }
            });
        }
    });
    let mut done = done.into_inner().expect("done");
    done.sort_by_key(|(i, _)| *i);
    let ports: Vec<PortReport> = done.into_iter().map(|(_, r)| r).collect();
    let mut summary = Summary {
        ports: ports.len(),
        ..Summary::default()
    };
    for p in &ports {
        summary.ports_with_patches += usize::from(!p.patches.is_empty());
        summary.orphans += p.orphans.len();
        for r in &p.patches {
            summary.patches += 1;
            summary.added += r.added;
            summary.removed += r.removed;
            *summary.upstream.entry(r.upstream.clone()).or_default() += 1;
            summary.failing += usize::from(r.status.is_failure());
            summary.incomplete_headers += usize::from(!r.missing_headers.is_empty());
        }
    }
    Ok(Audit { ports, summary })
}

fn audit_port(settings: &Settings, tree: &Tree, name: &str, strict: bool) -> PortReport {
    let mut report = PortReport {
        name: name.to_string(),
        version: String::new(),
        patches: Vec::new(),
        orphans: Vec::new(),
        overlays: Vec::new(),
        error: None,
    };
    let port = match tree.load_unchecked(name) {
        Ok(p) => p,
        Err(e) => {
            report.error = Some(e.to_string());
            return report;
        }
    };
    report.version = port.full_version();
    report.orphans = orphans(&port);

    // Read and parse every listed patch first, to know which files to read.
    let texts: Vec<Option<Vec<u8>>> = port
        .patches
        .iter()
        .map(|p| fs::read(port.patch_path(p)).ok())
        .collect();
    let mut parsed: Vec<Option<std::result::Result<Vec<FileDiff>, String>>> = Vec::new();
    for (p, text) in port.patches.iter().zip(&texts) {
        parsed.push(text.as_ref().map(|t| patch::parse(t, p.strip)));
    }
    let mut wanted = BTreeSet::new();
    for diffs in parsed.iter().flatten().flatten() {
        for d in diffs {
            for f in target_paths(&d.target) {
                wanted.insert(f.to_string());
            }
        }
    }
    for o in &port.overlays {
        wanted.insert(o.as_path().display().to_string());
    }

    let fetcher = Fetcher::new(settings);
    let pristine = fetcher
        .fetch_all(&port)
        .and_then(|files| source::read(&port, &files, &wanted));
    let pristine = match pristine {
        Ok(p) => Some(p),
        Err(e) => {
            report.error = Some(format!("source unavailable: {e}"));
            None
        }
    };

    let mut current: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
    if let Some(p) = &pristine {
        for w in &wanted {
            current.insert(w.clone(), p.files.get(w).cloned());
        }
    }
    for ((pref, text), diffs) in port.patches.iter().zip(&texts).zip(parsed) {
        let file = pref.file.get_ref().as_path().display().to_string();
        let headers = text
            .as_ref()
            .map(|t| header::parse(&String::from_utf8_lossy(t)))
            .unwrap_or_default();
        let mut r = PatchReport {
            file,
            status: Status::Applies,
            detail: None,
            hunks: Vec::new(),
            missing_headers: if text.is_some() {
                header::missing(&headers, strict)
            } else {
                Vec::new()
            },
            upstream: header::upstream(&headers).to_string(),
            headers,
            files: Vec::new(),
            added: 0,
            removed: 0,
        };
        match diffs {
            None => {
                r.status = Status::Missing;
                r.detail = Some(format!(
                    "{} does not exist",
                    port.patch_path(pref).display()
                ));
            }
            Some(Err(e)) => {
                r.status = Status::Unparsable;
                r.detail = Some(e);
            }
            Some(Ok(diffs)) => {
                for d in &diffs {
                    r.files
                        .push(target_paths(&d.target).last().expect("a path").to_string());
                    for h in d.diff.hunks() {
                        for l in h.lines() {
                            match l {
                                Line::Insert(_) => r.added += 1,
                                Line::Delete(_) => r.removed += 1,
                                Line::Context(_) => {}
                            }
                        }
                    }
                }
                if pristine.is_some() {
                    classify(&diffs, &mut current, &mut r);
                } else {
                    r.status = Status::Unchecked;
                }
            }
        }
        report.patches.push(r);
    }
    if let Some(p) = &pristine {
        report.overlays = port
            .overlays
            .iter()
            .map(|o| {
                let path = o.as_path().display().to_string();
                OverlayReport {
                    replaces: p.paths.contains(&path),
                    path,
                }
            })
            .collect();
    }
    report
}

/// Every path a file diff reads or writes.
fn target_paths(t: &Target) -> Vec<&str> {
    match t {
        Target::Create(p) | Target::Delete(p) => vec![p],
        Target::Modify { original, modified } => vec![original, modified],
        Target::Rename { from, to } | Target::Copy { from, to } => vec![from, to],
    }
}

/// Apply one patch's diffs to the in-memory files, or explain why not.
fn classify(
    diffs: &[FileDiff],
    current: &mut BTreeMap<String, Option<Vec<u8>>>,
    r: &mut PatchReport,
) {
    let get = |c: &BTreeMap<String, Option<Vec<u8>>>, p: &str| c.get(p).cloned().flatten();
    // Forward, on a copy: the series state changes only if all of it applies.
    let mut next = current.clone();
    let mut failure = None;
    for d in diffs {
        let (read_from, write_to, delete) = match &d.target {
            Target::Create(p) => (None, Some(p.as_str()), None),
            Target::Delete(p) => (Some(p.as_str()), None, Some(p.as_str())),
            Target::Modify { original, modified } => {
                let f = if get(&next, modified).is_some() {
                    modified
                } else {
                    original
                };
                (Some(f.as_str()), Some(f.as_str()), None)
            }
            Target::Rename { from, to } => {
                (Some(from.as_str()), Some(to.as_str()), Some(from.as_str()))
            }
            Target::Copy { from, to } => (Some(from.as_str()), Some(to.as_str()), None),
        };
        let shown = write_to.or(read_from).expect("a path").to_string();
        let base = match read_from {
            Some(p) => match get(&next, p) {
                Some(b) => b,
                None => {
                    failure = Some(format!("{p}: no such file in the source"));
                    break;
                }
            },
            None => {
                if get(&next, write_to.expect("create")).is_some() {
                    failure = Some(format!("{shown}: the patch creates it, but it exists"));
                    break;
                }
                Vec::new()
            }
        };
        match fit::fit(&base, &d.diff, MAX_FUZZ) {
            Ok((out, fits)) => {
                for (i, f) in fits.iter().enumerate() {
                    if f.offset != 0 || f.fuzz != 0 {
                        r.hunks.push(HunkReport {
                            file: shown.clone(),
                            hunk: i + 1,
                            offset: f.offset,
                            fuzz: f.fuzz,
                        });
                    }
                }
                if let Some(p) = delete {
                    next.insert(p.to_string(), None);
                }
                if let Some(p) = write_to {
                    next.insert(p.to_string(), Some(out));
                }
            }
            Err(h) => {
                failure = Some(format!("hunk #{h} of {shown} does not apply"));
                break;
            }
        }
    }
    match failure {
        None => {
            r.status = if r.hunks.iter().any(|h| h.fuzz > 0) {
                Status::Fuzz
            } else if r.hunks.is_empty() {
                Status::Applies
            } else {
                Status::Offset
            };
            *current = next;
        }
        Some(why) => {
            r.hunks.clear();
            let reversed = diffs.iter().all(|d| {
                let path = target_paths(&d.target).last().copied().expect("a path");
                match get(current, path) {
                    Some(b) => fit::fit(&b, &d.diff.reverse(), 0).is_ok(),
                    None => matches!(d.target, Target::Delete(_)),
                }
            });
            if reversed {
                r.status = Status::AlreadyApplied;
                r.detail = Some(
                    "the source already contains this change (upstream applied it); drop the patch"
                        .into(),
                );
            } else {
                r.status = Status::Fails;
                r.detail = Some(why);
            }
        }
    }
}

/// Files in the port's patches/ that port.toml does not list.
fn orphans(port: &Port) -> Vec<String> {
    let listed: BTreeSet<String> = port
        .patches
        .iter()
        .map(|p| p.file.get_ref().as_path().display().to_string())
        .collect();
    let mut out = Vec::new();
    let dir = port.dir.join("patches");
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let r = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(r);
            } else if !listed.contains(&r) && !r.ends_with("/series") && r != "series" {
                out.push(r);
            }
        }
    }
    out.sort();
    out
}
