//! Getting a port's sources into the distfiles store, proven by checksum.
//!
//! Order: the store itself, then each configured mirror (an HTTP base URL or
//! a local directory), then the port's upstream URLs. Downloads stream into a
//! temporary file in the store while being hashed and counted, are checked
//! against the port's size and SHA-256, fsync'd, and only then renamed to
//! their final name. A copy that fails the check is moved to `.rejected/`
//! (kept for inspection, never used) and the next location is tried.
//!
//! A port being written has no checksum yet: [`Fetcher::download_unverified`]
//! downloads the same way and reports the checksum instead of checking it.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::atomic::fsync_dir;
use crate::config::Settings;
use crate::error::{Error, IoContext, Result};
use crate::hash::{copy_hashed, hash_file};
use crate::mirror::index::{Index, check_path};
use crate::mirror::sync::Source as MirrorSource;
use crate::port::{Source, check_distfile_name, default_file_name};
use crate::ui;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tempfile::NamedTempFile;

/// The most an unverified download may bring: with no size to expect, this
/// is what keeps an endless body from filling the disk.
pub const UNVERIFIED_LIMIT: u64 = 4 << 30;

/// Where set-aside copies go, inside the store.
pub const REJECTED_DIR: &str = ".rejected";

pub struct Fetcher<'a> {
    settings: &'a Settings,
    agent: ureq::Agent,
    /// Mirror INDEXes read in this run, by mirror.
    indexes: RefCell<HashMap<String, Option<Index>>>,
}

/// Where mirror INDEXes are cached, inside the store.
pub const MIRROR_CACHE_DIR: &str = ".mirrors";
/// How long a cached mirror INDEX is used before it is fetched again.
pub const MIRROR_INDEX_TTL: Duration = Duration::from_secs(3600);

/// One place a source may come from.
enum Location {
    Http(String),
    Local(PathBuf),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Http(u) => f.write_str(u),
            Location::Local(p) => write!(f, "{}", p.display()),
        }
    }
}

impl<'a> Fetcher<'a> {
    pub fn new(settings: &'a Settings) -> Self {
        Fetcher {
            settings,
            agent: crate::http::agent(),
            indexes: RefCell::new(HashMap::new()),
        }
    }

    /// The store path a source will have once fetched.
    pub fn store_path(&self, src: &Source) -> PathBuf {
        self.settings.distfiles.join(src.file_name())
    }

    /// Is a verified copy already in the store? (Reads and hashes it.)
    pub fn is_present(&self, src: &Source) -> Result<bool> {
        let path = self.store_path(src);
        if !path.exists() {
            return Ok(false);
        }
        let (sha, size) = hash_file(&path)?;
        Ok(sha == src.sha256.as_str() && size == src.size)
    }

    /// Verified store copies of every source of `port`, in order.
    pub fn fetch_all(&self, port: &crate::port::Port) -> Result<Vec<PathBuf>> {
        port.sources.iter().map(|s| self.fetch(s)).collect()
    }

    /// Make sure a verified copy of `src` is in the store; return its path.
    pub fn fetch(&self, src: &Source) -> Result<PathBuf> {
        let store = &self.settings.distfiles;
        let file = src.file_name();
        let dest = store.join(file);
        let mut attempts = Vec::new();
        let mut mismatch = false;

        if dest.exists() {
            let (sha, size) = hash_file(&dest)?;
            if sha == src.sha256.as_str() && size == src.size {
                return Ok(dest);
            }
            let kept = self.set_aside(&dest, file, &sha)?;
            let err = checksum_error(src, &dest.display().to_string(), &sha, size, Some(kept));
            ui::warn(self.settings, &err.to_string());
            attempts.push(err.to_string());
            mismatch = true;
        }
        fs::create_dir_all(store).at("create the distfiles store", store)?;

        for location in self.locations(src) {
            ui::status(self.settings, &format!("fetching {file} from {location}"));
            match self.try_location(&location, src, &dest) {
                Ok(()) => return Ok(dest),
                Err(e) => {
                    mismatch |= matches!(e, Error::Checksum { .. });
                    let text = match &e {
                        Error::Checksum { .. } => e.to_string(),
                        _ => format!("{location}: {}", chain(&e)),
                    };
                    ui::warn(self.settings, &text);
                    attempts.push(text);
                }
            }
        }
        if mismatch {
            attempts.push("(a checksum mismatch means the file differs from the one the port was written for)".into());
        }
        Err(Error::FetchFailed {
            file: file.to_string(),
            attempts,
        })
    }

    /// Mirrors first (by content: the sha256 looked up in each mirror's
    /// INDEX, so a mirror's layout is free; by file name for a mirror
    /// without an INDEX), then the upstream URLs.
    fn locations(&self, src: &Source) -> Vec<Location> {
        let mut out = Vec::new();
        for m in &self.settings.mirrors {
            let path = match self.mirror_index(m) {
                Some(idx) => match idx
                    .by_sha(src.sha256.as_str())
                    .filter(|e| e.size == src.size && check_path(&e.path).is_ok())
                {
                    Some(e) => e.path.clone(),
                    None => continue,
                },
                None => src.file_name().to_string(),
            };
            out.push(mirror_location(m, &path));
        }
        out.extend(src.urls.iter().cloned().map(Location::Http));
        out
    }

    /// A mirror's INDEX: from this run's memory, the store's cache (fresh
    /// for [`MIRROR_INDEX_TTL`]), or the mirror. None if it has none.
    fn mirror_index(&self, mirror: &str) -> Option<Index> {
        if let Some(i) = self.indexes.borrow().get(mirror) {
            return i.clone();
        }
        let cache = self
            .settings
            .distfiles
            .join(MIRROR_CACHE_DIR)
            .join(crate::hash::to_hex(&Sha256::digest(mirror.as_bytes())));
        let fresh = fs::metadata(&cache)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t.elapsed().is_ok_and(|age| age < MIRROR_INDEX_TTL));
        let cached = || {
            fs::read_to_string(&cache)
                .ok()
                .and_then(|t| Index::parse(&t, mirror).ok())
        };
        let index = if fresh {
            cached()
        } else {
            match MirrorSource::new(mirror).index() {
                Ok(idx) => {
                    // The cache file's mtime is the time it was fetched.
                    let _ = fs::create_dir_all(crate::atomic::parent(&cache))
                        .map_err(|e| Error::io("create", &cache, e))
                        .and_then(|()| {
                            crate::atomic::write_file(&cache, idx.to_text().as_bytes(), 0o644)
                        });
                    Some(idx)
                }
                Err(e) => {
                    ui::detail(
                        self.settings,
                        &format!("{mirror}: no usable INDEX ({e}); looking files up by name"),
                    );
                    cached()
                }
            }
        };
        self.indexes
            .borrow_mut()
            .insert(mirror.to_string(), index.clone());
        index
    }

    /// Copy one location into a temporary file in the store, hashing it on
    /// the way; at most `limit` bytes are accepted.
    fn copy_to_temp(
        &self,
        location: &Location,
        file: &str,
        limit: u64,
    ) -> Result<(NamedTempFile, String, u64)> {
        let store = &self.settings.distfiles;
        let mut tmp = tempfile::Builder::new()
            .prefix(&format!(".{file}.partial-"))
            .tempfile_in(store)
            .at("create a temporary file in", store)?;
        let (sha, size) = match location {
            Location::Local(p) => {
                let bar = ui::Progress::bytes(self.settings, limit, file);
                let mut f = bar.reader(File::open(p).at("open", p)?);
                copy_hashed(&mut f, tmp.as_file_mut(), Some(limit)).at("copy", p)?
            }
            Location::Http(url) => {
                let response = self.agent.get(url).call().map_err(|e| Error::Invalid {
                    path: PathBuf::from(url),
                    message: e.to_string(),
                })?;
                let bar = ui::Progress::bytes(self.settings, limit, file);
                let mut body = bar.reader(response.into_body().into_reader());
                copy_hashed(&mut body as &mut dyn Read, tmp.as_file_mut(), Some(limit)).map_err(
                    |e| Error::Invalid {
                        path: PathBuf::from(url),
                        message: format!("download failed: {e}"),
                    },
                )?
            }
        };
        Ok((tmp, sha, size))
    }

    /// Copy one location into a temporary file in the store, verify it, and
    /// rename it into place.
    fn try_location(&self, location: &Location, src: &Source, dest: &Path) -> Result<()> {
        let store = &self.settings.distfiles;
        let (tmp, sha, size) = self.copy_to_temp(location, src.file_name(), src.size)?;
        if sha != src.sha256.as_str() || size != src.size {
            let kept = self.set_aside(tmp.path(), src.file_name(), &sha)?;
            // The temporary file was renamed away; do not let its drop fail.
            let _ = tmp.into_temp_path().keep();
            return Err(checksum_error(
                src,
                &location.to_string(),
                &sha,
                size,
                Some(kept),
            ));
        }
        tmp.as_file().sync_all().at("sync", tmp.path())?;
        tmp.persist(dest)
            .map_err(|e| Error::io("rename into place", dest, e.error))?;
        fsync_dir(store)
    }

    /// Download a source whose checksum is not known yet (a port being
    /// written): each mirror by file name, then `urls`, streamed into a
    /// temporary file in the store and renamed to `STORE/FILE` only once
    /// complete and hashed. Returns the path, SHA-256 and size. Nothing
    /// vouches for the content: the caller shows the checksum to the porter
    /// and writes it into the port, where it is reviewed.
    pub fn download_unverified(
        &self,
        file: &str,
        urls: &[String],
    ) -> Result<(PathBuf, String, u64)> {
        let store = &self.settings.distfiles;
        check_distfile_name(file).map_err(|message| Error::Invalid {
            path: store.join(file),
            message,
        })?;
        fs::create_dir_all(store).at("create the distfiles store", store)?;
        let dest = store.join(file);
        let mut locations = Vec::new();
        for m in &self.settings.mirrors {
            // Without a checksum an INDEX can only be searched by name.
            let path = match self.mirror_index(m) {
                Some(idx) => match idx
                    .entries
                    .iter()
                    .find(|e| default_file_name(&e.path) == file && check_path(&e.path).is_ok())
                {
                    Some(e) => e.path.clone(),
                    None => continue,
                },
                None => file.to_string(),
            };
            locations.push(mirror_location(m, &path));
        }
        locations.extend(urls.iter().cloned().map(Location::Http));

        let mut attempts = Vec::new();
        for location in locations {
            ui::status(self.settings, &format!("fetching {file} from {location}"));
            match self.copy_to_temp(&location, file, UNVERIFIED_LIMIT) {
                Ok((tmp, sha, size)) => {
                    tmp.as_file().sync_all().at("sync", tmp.path())?;
                    tmp.persist(&dest)
                        .map_err(|e| Error::io("rename into place", &dest, e.error))?;
                    fsync_dir(store)?;
                    return Ok((dest, sha, size));
                }
                Err(e) => {
                    let text = format!("{location}: {}", chain(&e));
                    ui::warn(self.settings, &text);
                    attempts.push(text);
                }
            }
        }
        Err(Error::FetchFailed {
            file: file.to_string(),
            attempts,
        })
    }

    /// Move a bad copy to `.rejected/FILE.SHA12` and return the new path.
    fn set_aside(&self, path: &Path, file: &str, actual_sha: &str) -> Result<PathBuf> {
        let dir = self.settings.distfiles.join(REJECTED_DIR);
        fs::create_dir_all(&dir).at("create", &dir)?;
        let kept = dir.join(format!("{file}.{}", &actual_sha[..12]));
        fs::rename(path, &kept).at("set aside", path)?;
        fsync_dir(&dir)?;
        Ok(kept)
    }
}

/// A file on a mirror: an HTTP base URL or a local directory.
fn mirror_location(mirror: &str, path: &str) -> Location {
    if mirror.starts_with("http://") || mirror.starts_with("https://") {
        Location::Http(crate::http::join_url(mirror, path))
    } else {
        Location::Local(Path::new(mirror).join(path))
    }
}

fn checksum_error(
    src: &Source,
    origin: &str,
    sha: &str,
    size: u64,
    kept_at: Option<PathBuf>,
) -> Error {
    Error::Checksum {
        file: src.file_name().to_string(),
        origin: origin.to_string(),
        expected_sha256: src.sha256.as_str().to_string(),
        expected_size: src.size,
        actual_sha256: sha.to_string(),
        actual_size: size,
        kept_at,
    }
}

/// An error and its causes on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}
