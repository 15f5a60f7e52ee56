//! `gport mirror sync SOURCE DIR`: replicate a mirror append-only.
//!
//! New files are added after verification; an existing file is never
//! changed or removed, whatever the server claims (a disagreement is a
//! conflict, reported); files the server no longer lists stay. Every
//! server-provided path passes [`check_path`] and a walk that refuses
//! symlinks and non-directories before anything touches the disk.
//!
//! A download goes to `DIR/.partial/SHA256-SIZE` (content-named, so a
//! killed sync resumes it with an HTTP Range request), is checked for size
//! and SHA-256 while it streams, fsync'd, and hard-linked to its final name
//! — `link(2)` never replaces an existing file — then the partial is
//! dropped.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::atomic::{create_dirs_nofollow, fsync_dir};
use crate::error::{Error, IoContext, Result};
use crate::hash::{BUF_SIZE, Hasher, hash_file};
use crate::http;
use crate::lock::Lock;
use crate::mirror::index::{Cursor, Entry, INDEX, Index, Line, check_path, parse_lines};
use crate::mirror::local::{Found, Listing};

/// Where downloads in progress live, inside the mirror directory.
pub const PARTIAL_DIR: &str = ".partial";
/// The largest INDEX accepted.
pub const MAX_INDEX_BYTES: u64 = 64 << 20;

#[derive(Debug, Clone)]
pub struct Options {
    pub jobs: usize,
    /// Hash existing files, not only compare sizes.
    pub verify: bool,
}

/// A path and what went wrong with it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Issue {
    pub path: String,
    pub reason: String,
}

impl From<(String, String)> for Issue {
    fn from((path, reason): (String, String)) -> Self {
        Issue { path, reason }
    }
}

/// What a sync did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Report {
    pub added: Vec<String>,
    pub present: usize,
    /// Remote entries that disagree with a local file (kept).
    pub conflicts: Vec<Issue>,
    /// Remote paths refused before touching the disk.
    pub refused: Vec<Issue>,
    /// Downloads that failed (a truncated one resumes next time).
    pub failed: Vec<Issue>,
    pub bytes: u64,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.conflicts.is_empty() && self.refused.is_empty() && self.failed.is_empty()
    }
}

/// A mirror to read from: an HTTP base URL or a local directory.
pub enum Source {
    Http { base: String, agent: ureq::Agent },
    Dir(PathBuf),
}

impl Source {
    pub fn new(s: &str) -> Source {
        if s.starts_with("http://") || s.starts_with("https://") {
            Source::Http {
                base: s.trim_end_matches('/').to_string(),
                agent: http::agent(),
            }
        } else {
            Source::Dir(PathBuf::from(s))
        }
    }

    fn describe(&self, path: &str) -> String {
        match self {
            Source::Http { base, .. } => http::join_url(base, path),
            Source::Dir(d) => d.join(path).display().to_string(),
        }
    }

    /// Fetch and parse the INDEX, refusing one larger than [`MAX_INDEX_BYTES`].
    pub fn index(&self) -> Result<Index> {
        Index::parse(&self.index_text()?, &self.describe(INDEX))
    }

    /// Fetch the INDEX's text, refusing one larger than [`MAX_INDEX_BYTES`].
    pub fn index_text(&self) -> Result<String> {
        let origin = self.describe(INDEX);
        let bad = |m: String| Error::Invalid {
            path: PathBuf::from(&origin),
            message: m,
        };
        let body = self
            .open(INDEX, 0)
            .map_err(|e| bad(format!("cannot read the mirror's INDEX: {e}")))?;
        // Sized once from Content-Length (capped): no regrowth on the way.
        let hint = body.length.unwrap_or(0).min(MAX_INDEX_BYTES + 1);
        let mut buf = Vec::with_capacity(hint as usize);
        let mut reader = body.reader;
        (&mut reader)
            .take(MAX_INDEX_BYTES + 1)
            .read_to_end(&mut buf)
            .map_err(|e| bad(format!("reading INDEX: {e}")))?;
        if buf.len() as u64 > MAX_INDEX_BYTES {
            return Err(bad(format!(
                "INDEX is larger than {} MiB; refusing it",
                MAX_INDEX_BYTES >> 20
            )));
        }
        String::from_utf8(buf).map_err(|_| bad("INDEX is not UTF-8 text".into()))
    }

    /// Open `path` from byte `from`; true if the source honoured `from`.
    fn open(
        &self,
        path: &str,
        from: u64,
    ) -> std::result::Result<http::Body<Box<dyn Read>>, String> {
        match self {
            Source::Http { base, agent } => {
                let b = http::get(agent, &http::join_url(base, path), from)?;
                Ok(http::Body {
                    partial: b.partial,
                    length: b.length,
                    reader: Box::new(b.reader),
                })
            }
            Source::Dir(d) => {
                // The source directory is no more trusted than a server.
                check_path(path).or_else(|e| if path == INDEX { Ok(()) } else { Err(e) })?;
                if !crate::atomic::is_plain_file_under(d, Path::new(path)) {
                    return Err(format!(
                        "{} is not a regular file reached through real directories",
                        d.join(path).display()
                    ));
                }
                let mut f = File::open(d.join(path)).map_err(|e| e.to_string())?;
                let length = f.metadata().map_err(|e| e.to_string())?.len();
                f.seek(SeekFrom::Start(from)).map_err(|e| e.to_string())?;
                Ok(http::Body {
                    partial: true,
                    length: Some(length.saturating_sub(from)),
                    reader: Box::new(f),
                })
            }
        }
    }
}

/// One download: a content, and the paths that want it.
struct Task {
    sha256: String,
    size: u64,
    paths: Vec<String>,
}

pub fn sync(
    source: &Source,
    dir: &Path,
    opts: &Options,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Report> {
    fs::create_dir_all(dir).at("create", dir)?;
    let _lock = Lock::acquire_file(&dir.join(".gport-mirror.lock"), progress)?;
    // One walk of DIR answers every remote entry and describes DIR at the
    // end. It needs nothing from the server, so it runs while the INDEX
    // downloads (and is waited for whatever happens).
    std::thread::scope(|s| {
        let walker = s.spawn(|| Listing::walk(dir, opts.jobs));
        sync_walking(source, dir, opts, progress, walker)
    })
}

/// The sync, once the walk of DIR is under way in `walker`.
fn sync_walking(
    source: &Source,
    dir: &Path,
    opts: &Options,
    progress: &(dyn Fn(&str) + Sync),
    walker: std::thread::ScopedJoinHandle<'_, Result<Listing>>,
) -> Result<Report> {
    let remote_text = source.index_text()?;
    let remote = parse_lines(&remote_text, &source.describe(INDEX))?;
    // The local INDEX, if readable: what this directory's files hash to, as
    // far as their sizes still agree. After a complete sync it is usually
    // the remote INDEX byte for byte: then it is not parsed twice.
    let local_text = fs::read_to_string(dir.join(INDEX)).ok();
    let parsed;
    let known: Option<&[Line]> = match &local_text {
        Some(t) if *t == remote_text => Some(&remote),
        Some(t) => {
            parsed = parse_lines(t, "local").ok();
            parsed.as_deref()
        }
        None => None,
    };
    let listing = walker.join().expect("the walk panicked")?;
    let mut report = Report::default();
    let mut tasks: BTreeMap<String, Task> = BTreeMap::new();
    // Entries whose hash this sync established: hashed here, or downloaded.
    let mut verified: Vec<Entry> = Vec::new();
    // Both lists are sorted by path, as the remote one is: one merge.
    let mut local = listing.finder();
    let mut vouchers = known.map(lines_by_path);

    for e in &remote {
        if let Err(why) = check_path(e.path) {
            report
                .refused
                .push(Issue::from((e.path.escape_debug().to_string(), why)));
            continue;
        }
        if e.path == INDEX {
            report.refused.push(Issue::from((
                e.path.to_string(),
                "the mirror's own index: a reserved name".to_string(),
            )));
            continue;
        }
        match local.find(e.path) {
            Found::Unusable(why) => report.refused.push(Issue::from((e.path.to_string(), why))),
            Found::File(size) if size != e.size => {
                report.conflicts.push(Issue::from((
                    e.path.to_string(),
                    format!(
                        "the server says {} bytes, the local file has {size}; local file kept",
                        e.size
                    ),
                )));
            }
            Found::File(_) => {
                // The local INDEX vouches for a file it lists at this size;
                // anything else (or --verify) is hashed, never taken on the
                // server's word.
                let vouched = vouchers
                    .as_mut()
                    .and_then(|k| k.get(e.path))
                    .filter(|c| c.size == e.size && !opts.verify);
                let sha = match vouched {
                    Some(c) => c.sha256,
                    None => {
                        let sha = hash_file(&dir.join(e.path))?.0;
                        verified.push(Entry {
                            sha256: sha,
                            size: e.size,
                            path: e.path.to_string(),
                        });
                        verified.last().expect("pushed").sha256.as_str()
                    }
                };
                if sha != e.sha256 {
                    report.conflicts.push(Issue::from((
                        e.path.to_string(),
                        format!(
                            "the server says sha256 {}, the local file has {sha}; local file kept",
                            e.sha256
                        ),
                    )));
                } else {
                    report.present += 1;
                }
            }
            Found::Missing => {
                tasks
                    .entry(format!("{}-{}", e.sha256, e.size))
                    .or_insert_with(|| Task {
                        sha256: e.sha256.to_string(),
                        size: e.size,
                        paths: Vec::new(),
                    })
                    .paths
                    .push(e.path.to_string());
            }
        }
    }

    if !tasks.is_empty() {
        download_all(
            source,
            dir,
            tasks,
            opts.jobs,
            &mut report,
            &mut verified,
            progress,
        )?;
    }
    if report.failed.is_empty() {
        clean_partials(dir);
    }
    update_index(dir, &listing, known, verified)?;
    Ok(report)
}

fn lines_by_path<'a, 'b>(lines: &'b [Line<'a>]) -> Cursor<'b, Line<'a>> {
    Cursor::new(lines, |l| l.path)
}

/// Make `DIR/INDEX` describe exactly what DIR holds: the walk's files and
/// those placed since, with the hashes this sync established, else the
/// local INDEX's (where the size agrees), else read from the file. Written
/// only when that differs from `known`.
fn update_index(
    dir: &Path,
    listing: &Listing,
    known: Option<&[Line]>,
    mut verified: Vec<Entry>,
) -> Result<()> {
    // The common case, a sync that changed nothing: the local INDEX lists
    // exactly the files found, at their sizes. Checked in one pass.
    if verified.is_empty()
        && let Some(k) = known
    {
        let mut files = listing.files();
        if k.iter().all(|l| files.next() == Some((l.path, l.size))) && files.next().is_none() {
            return Ok(());
        }
    }
    verified.sort_by(|a, b| a.path.cmp(&b.path));
    let mut vouchers = known.map(lines_by_path);
    let mut local = Index::of_listing(dir, listing, |path, size| {
        if let Ok(i) = verified.binary_search_by(|v| v.path.as_str().cmp(path)) {
            return Some(verified[i].sha256.clone());
        }
        vouchers
            .as_mut()
            .and_then(|k| k.get(path))
            .filter(|l| l.size == size)
            .map(|l| l.sha256.to_string())
    })?;
    // Files placed by this sync: not seen by the walk.
    for v in &verified {
        if listing.find(&v.path) == Found::Missing {
            local.entries.push(v.clone());
        }
    }
    local.entries.sort_by(|a, b| a.path.cmp(&b.path));
    let same = known.is_some_and(|k| {
        k.len() == local.entries.len()
            && k.iter()
                .zip(&local.entries)
                .all(|(l, e)| l.path == e.path && l.size == e.size && l.sha256 == e.sha256)
    });
    if !same {
        local.write(dir)?;
    }
    Ok(())
}

/// Download `tasks` on `jobs` threads, recording what happened in `report`
/// and each placed file in `verified`.
fn download_all(
    source: &Source,
    dir: &Path,
    tasks: BTreeMap<String, Task>,
    jobs: usize,
    report: &mut Report,
    verified: &mut Vec<Entry>,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<()> {
    let partial_dir = dir.join(PARTIAL_DIR);
    fs::create_dir_all(&partial_dir).at("create", &partial_dir)?;
    let queue = Mutex::new(tasks.into_values().collect::<Vec<_>>());
    let shared = Mutex::new((report, verified));
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| {
                loop {
                    let Some(task) = queue.lock().expect("queue").pop() else {
                        break;
                    };
                    let result = download(source, dir, &partial_dir, &task);
                    let mut guard = shared.lock().expect("report");
                    let (report, verified) = &mut *guard;
                    match result {
                        Ok(outcome) => {
                            report.bytes += outcome.bytes;
                            for (path, placed) in task.paths.iter().zip(outcome.placed) {
                                match placed {
                                    Ok(()) => {
                                        progress(&format!("added {path}"));
                                        report.added.push(path.clone());
                                        verified.push(Entry {
                                            sha256: task.sha256.clone(),
                                            size: task.size,
                                            path: path.clone(),
                                        });
                                    }
                                    Err(why) => {
                                        report.conflicts.push(Issue::from((path.clone(), why)))
                                    }
                                }
                            }
                        }
                        Err(why) => {
                            for p in &task.paths {
                                report.failed.push(Issue {
                                    path: p.clone(),
                                    reason: why.clone(),
                                });
                            }
                        }
                    }
                }
            });
        }
    });
    let (report, _) = shared.into_inner().expect("report");
    report.added.sort();
    Ok(())
}

/// Drop `DIR/.partial` and what it holds (kept only while a download is to
/// be resumed).
fn clean_partials(dir: &Path) {
    let partial_dir = dir.join(PARTIAL_DIR);
    if let Ok(entries) = fs::read_dir(&partial_dir) {
        for e in entries.flatten() {
            let _ = fs::remove_file(e.path());
        }
        let _ = fs::remove_dir(&partial_dir);
    }
}

struct Outcome {
    bytes: u64,
    /// Per path of the task: placed, or why not.
    placed: Vec<std::result::Result<(), String>>,
}

/// Download one content to its partial file (resuming), verify it, and link
/// it to each of its paths.
fn download(
    source: &Source,
    dir: &Path,
    partial_dir: &Path,
    task: &Task,
) -> std::result::Result<Outcome, String> {
    let partial = partial_dir.join(format!("{}-{}", task.sha256, task.size));
    let mut hasher = Hasher::new();
    let mut have = 0u64;
    if let Ok(mut f) = File::open(&partial) {
        let len = f.metadata().map_err(|e| e.to_string())?.len();
        if len <= task.size {
            let mut buf = vec![0u8; BUF_SIZE];
            loop {
                let n = f.read(&mut buf).map_err(|e| e.to_string())?;
                if n == 0 {
                    break;
                }
                hasher.update(&buf[..n]);
            }
            have = len;
        }
    }
    let mut out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&partial)
        .map_err(|e| format!("{}: {e}", partial.display()))?;
    if have == 0 {
        out.set_len(0).map_err(|e| e.to_string())?;
    }
    let mut fetched = 0u64;
    if have < task.size {
        let http::Body {
            partial: resumed,
            reader: mut body,
            ..
        } = source.open(&task.paths[0], have)?;
        if !resumed && have > 0 {
            // The server sent the whole file: start over.
            out.set_len(0).map_err(|e| e.to_string())?;
            hasher = Hasher::new();
            have = 0;
        }
        let mut buf = vec![0u8; BUF_SIZE];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let _ = out.sync_data();
                    return Err(format!(
                        "download interrupted after {} of {} bytes ({e}); it resumes on the next sync",
                        have, task.size
                    ));
                }
            };
            if have + n as u64 > task.size {
                drop(out);
                let _ = fs::remove_file(&partial);
                return Err(format!(
                    "the server sent more than the {} bytes its INDEX declares",
                    task.size
                ));
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(|e| e.to_string())?;
            have += n as u64;
            fetched += n as u64;
        }
    }
    if have < task.size {
        let _ = out.sync_data();
        return Err(format!(
            "truncated: {have} of {} bytes; it resumes on the next sync",
            task.size
        ));
    }
    let (sha, _) = hasher.finish();
    if sha != task.sha256 {
        drop(out);
        let _ = fs::remove_file(&partial);
        return Err(format!(
            "sha256 mismatch: the INDEX says {}, the download is {sha}; discarded",
            task.sha256
        ));
    }
    out.sync_all().map_err(|e| e.to_string())?;
    let placed = task
        .paths
        .iter()
        .map(|p| {
            let parent = Path::new(p).parent().unwrap_or(Path::new(""));
            create_dirs_nofollow(dir, parent).map_err(|e| e.to_string())?;
            let dest = dir.join(p);
            match fs::hard_link(&partial, &dest) {
                Ok(()) => fsync_dir(crate::atomic::parent(&dest)).map_err(|e| e.to_string()),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    Err("appeared locally during the sync; local file kept".into())
                }
                Err(e) => Err(format!("{}: {e}", dest.display())),
            }
        })
        .collect();
    let _ = fs::remove_file(&partial);
    Ok(Outcome {
        bytes: fetched,
        placed,
    })
}
