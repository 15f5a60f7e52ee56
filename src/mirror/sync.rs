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
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use crate::atomic::{create_dirs_nofollow, fsync_dir};
use crate::error::{Error, IoContext, Result};
use crate::hash::{BUF_SIZE, Hasher, hash_file};
use crate::http;
use crate::lock::Lock;
use crate::mirror::index::{Entry, INDEX, Index, check_path};

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
        let origin = self.describe(INDEX);
        let bad = |m: String| Error::Invalid {
            path: PathBuf::from(&origin),
            message: m,
        };
        let mut reader = self
            .open(INDEX, 0)
            .map_err(|e| bad(format!("cannot read the mirror's INDEX: {e}")))?
            .1;
        let mut buf = Vec::new();
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
        let text = String::from_utf8(buf).map_err(|_| bad("INDEX is not UTF-8 text".into()))?;
        Index::parse(&text, &origin)
    }

    /// Open `path` from byte `from`; true if the source honoured `from`.
    fn open(&self, path: &str, from: u64) -> std::result::Result<(bool, Box<dyn Read>), String> {
        match self {
            Source::Http { base, agent } => {
                let (partial, r) = http::get(agent, &http::join_url(base, path), from)?;
                Ok((partial, Box::new(r)))
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
                f.seek(SeekFrom::Start(from)).map_err(|e| e.to_string())?;
                Ok((true, Box::new(f)))
            }
        }
    }
}

/// What is at a server path in the local mirror.
enum Local {
    Missing,
    File(u64),
    /// A symlink, directory or other non-file, or a symlinked/non-directory
    /// parent: refused, never written through.
    Unusable(String),
}

/// `dirs` remembers local directories already checked (no entry of a sync
/// can turn a directory into something else).
fn inspect_local(
    dir: &Path,
    path: &str,
    dirs: &mut std::collections::HashSet<PathBuf>,
) -> Result<Local> {
    let mut cur = dir.to_path_buf();
    let comps: Vec<_> = Path::new(path).components().collect();
    for (i, c) in comps.iter().enumerate() {
        let Component::Normal(n) = c else {
            return Ok(Local::Unusable("not a plain path".into()));
        };
        cur.push(n);
        let last = i + 1 == comps.len();
        if !last && dirs.contains(&cur) {
            continue;
        }
        match fs::symlink_metadata(&cur) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Local::Missing),
            Err(e) => return Err(Error::io("inspect", &cur, e)),
            Ok(m) if m.file_type().is_symlink() => {
                return Ok(Local::Unusable(format!(
                    "{} is a symlink here; not followed",
                    cur.strip_prefix(dir).unwrap_or(&cur).display()
                )));
            }
            Ok(m) if !last && !m.is_dir() => {
                return Ok(Local::Unusable(format!(
                    "{} is not a directory here",
                    cur.strip_prefix(dir).unwrap_or(&cur).display()
                )));
            }
            Ok(m) if last && !m.is_file() => {
                return Ok(Local::Unusable("not a regular file here".into()));
            }
            Ok(m) if last => return Ok(Local::File(m.len())),
            Ok(_) => {
                dirs.insert(cur.clone());
            }
        }
    }
    Ok(Local::Missing)
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
    let remote = source.index()?;
    let known = fs::read_to_string(dir.join(INDEX))
        .ok()
        .and_then(|t| Index::parse(&t, "local").ok());
    let mut checked_dirs = std::collections::HashSet::new();
    // Sizes of files stat'ed here, reused when the local INDEX is rebuilt.
    let mut sizes: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    // Looked up once per remote entry: a map, not a scan of the list.
    let known_by_path: std::collections::HashMap<&str, &Entry> = known
        .iter()
        .flat_map(|k| k.entries.iter())
        .map(|e| (e.path.as_str(), e))
        .collect();
    let mut report = Report::default();
    let mut tasks: BTreeMap<String, Task> = BTreeMap::new();
    let mut verified: Vec<Entry> = Vec::new();

    for e in &remote.entries {
        if let Err(why) = check_path(&e.path) {
            report
                .refused
                .push(Issue::from((e.path.escape_debug().to_string(), why)));
            continue;
        }
        match inspect_local(dir, &e.path, &mut checked_dirs)? {
            Local::Unusable(why) => report.refused.push(Issue::from((e.path.clone(), why))),
            Local::File(size)
                if {
                    sizes.insert(e.path.clone(), size);
                    size != e.size
                } =>
            {
                report.conflicts.push(Issue::from((
                    e.path.clone(),
                    format!(
                        "the server says {} bytes, the local file has {size}; local file kept",
                        e.size
                    ),
                )));
            }
            Local::File(_) => {
                let cached = known_by_path.get(e.path.as_str());
                // The local INDEX vouches for a file it lists at this size;
                // anything else (or --verify) is hashed, never taken on the
                // server's word.
                let sha = match cached {
                    Some(c) if c.size == e.size && !opts.verify => c.sha256.clone(),
                    _ => hash_file(&dir.join(&e.path))?.0,
                };
                if sha != e.sha256 {
                    report.conflicts.push(Issue::from((
                        e.path.clone(),
                        format!(
                            "the server says sha256 {}, the local file has {sha}; local file kept",
                            e.sha256
                        ),
                    )));
                } else {
                    report.present += 1;
                    if opts.verify {
                        verified.push(e.clone());
                    }
                }
            }
            Local::Missing => {
                let key = format!("{}-{}", e.sha256, e.size);
                tasks
                    .entry(key)
                    .or_insert_with(|| Task {
                        sha256: e.sha256.clone(),
                        size: e.size,
                        paths: Vec::new(),
                    })
                    .paths
                    .push(e.path.clone());
            }
        }
    }

    let partial_dir = dir.join(PARTIAL_DIR);
    if !tasks.is_empty() {
        fs::create_dir_all(&partial_dir).at("create", &partial_dir)?;
    }
    let queue = Mutex::new(tasks.into_values().collect::<Vec<_>>());
    let shared = Mutex::new((report, verified));
    std::thread::scope(|s| {
        for _ in 0..opts.jobs.max(1) {
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
    let (mut report, verified) = shared.into_inner().expect("report");
    report.added.sort();

    // Partials are kept only to resume a failed download.
    if report.failed.is_empty() {
        if let Ok(entries) = fs::read_dir(&partial_dir) {
            for e in entries.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
        let _ = fs::remove_dir(&partial_dir);
    }

    // Describe exactly what DIR holds, re-reading only unknown files.
    let mut hints = known.unwrap_or_default();
    hints
        .entries
        .retain(|k| !verified.iter().any(|v| v.path == k.path));
    // Files placed by this sync were not stat'ed above; their sizes are known.
    for v in &verified {
        sizes.insert(v.path.clone(), v.size);
    }
    hints.entries.extend(verified);
    hints.entries.sort_by(|a, b| a.path.cmp(&b.path));
    let local = Index::scan_with_sizes(dir, Some(&hints), &sizes)?;
    if fs::read_to_string(dir.join(INDEX)).ok().as_deref() != Some(local.to_text().as_str()) {
        local.write(dir)?;
    }
    Ok(report)
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
        let (resumed, mut body) = source.open(&task.paths[0], have)?;
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
