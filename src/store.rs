//! The package store, `ROOT/gales/pkg`: one directory per installed build,
//! one pointer symlink per package naming its active build.
//!
//! ```text
//! gales/pkg/lua-5.4.4/            read-only after install
//! gales/pkg/lua-5.4.4/.gport/     port/ (the definition as built), manifest, build.log
//! gales/pkg/lua -> lua-5.4.4      the active version
//! gales/pkg/.gport/               gport's own state: the lock
//! ```
//!
//! There is no database: what is installed is what these directories say.
//! A new build is copied from the build's staging dir into a hidden
//! directory of the store (same filesystem), checked and hashed on the way,
//! synced, and renamed to its final name in one step.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

use crate::atomic::{fsync_dir, libc_nofollow, remove_tree};
use crate::error::{Error, IoContext, Result};
use crate::hash::copy_hashed;
use crate::manifest::{Entry, Kind, Manifest};
use crate::paths::stays_inside;
use crate::port::Port;

/// The store, relative to the root.
pub const STORE_DIR: &str = "gales/pkg";
/// gport's own state inside the store.
pub const STATE_DIR: &str = "gales/pkg/.gport";
/// Inside each package.
pub const META_DIR: &str = ".gport";
/// Prefix of in-progress installs inside the store; anything with it found
/// while holding the lock is debris of an interrupted run.
pub const STAGING_PREFIX: &str = ".installing-";
/// Prefix of builds being deleted: renamed out of sight first, so a kill
/// mid-delete never leaves a half-deleted build under its real name.
pub const REMOVING_PREFIX: &str = ".removing-";

/// One installed build.
#[derive(Debug, Clone)]
pub struct Installed {
    /// `NAME-FULLVERSION`, the directory name.
    pub id: String,
    pub port: Port,
    pub active: bool,
}

pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dir(&self) -> PathBuf {
        self.root.join(STORE_DIR)
    }

    pub fn package_dir(&self, id: &str) -> PathBuf {
        self.dir().join(id)
    }

    /// The build `name`'s pointer names, if the package is active.
    pub fn active(&self, name: &str) -> Result<Option<String>> {
        let pointer = self.dir().join(name);
        match fs::read_link(&pointer) {
            Ok(t) => Ok(t.to_str().map(String::from)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) if e.raw_os_error() == Some(nix::libc::EINVAL) => Err(Error::Invalid {
                path: pointer,
                message: "expected a package pointer (symlink), found something else".into(),
            }),
            Err(e) => Err(Error::io("read pointer", &pointer, e)),
        }
    }

    /// Is there a complete installed build with this id?
    pub fn is_installed(&self, id: &str) -> bool {
        self.package_dir(id)
            .join(META_DIR)
            .join("manifest")
            .is_file()
    }

    /// The port definition a build was made from.
    pub fn port_of(&self, id: &str) -> Result<Port> {
        Port::load(&self.package_dir(id).join(META_DIR).join("port"), None)
    }

    pub fn manifest(&self, id: &str) -> Result<Manifest> {
        let path = self.package_dir(id).join(META_DIR).join("manifest");
        let text = fs::read_to_string(&path).at("read", &path)?;
        Manifest::parse(&path, &text)
    }

    /// Every installed build, sorted by id.
    pub fn installed(&self) -> Result<Vec<Installed>> {
        let dir = self.dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("read", &dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.at("read", &dir)?;
            let id = entry.file_name().to_string_lossy().into_owned();
            if id.starts_with('.')
                || !entry.file_type().at("inspect", &entry.path())?.is_dir()
                || !self.is_installed(&id)
            {
                continue;
            }
            let port = self.port_of(&id)?;
            let active = self.active(port.name.as_str())?.as_deref() == Some(id.as_str());
            out.push(Installed { id, port, active });
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Remove staging directories left by an interrupted install. Only call
    /// while holding the lock: then no other gport is using them.
    pub fn clean_debris(&self) -> Result<()> {
        let dir = self.dir();
        let Ok(entries) = fs::read_dir(&dir) else {
            return Ok(());
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with(STAGING_PREFIX)
            {
                remove_tree(&entry.path())?;
            }
        }
        Ok(())
    }

    /// Delete an installed, inactive build: renamed to a hidden name in one
    /// step (durably), then removed at leisure.
    pub fn delete_build(&self, id: &str) -> Result<()> {
        let from = self.package_dir(id);
        let hidden = self
            .dir()
            .join(format!("{REMOVING_PREFIX}{id}-{}", std::process::id()));
        fs::rename(&from, &hidden).at("move aside", &from)?;
        fsync_dir(&self.dir())?;
        crate::fault::point("store:moved-aside");
        remove_tree(&hidden)
    }

    /// Copy a build's staged prefix into a hidden directory of the store,
    /// refusing what a package may not contain, and write its metadata.
    /// Nothing is visible under the final name until [`Staged::commit`].
    pub fn stage(&self, port: &Port, staged_prefix: &Path, build_log: &Path) -> Result<Staged> {
        let id = port.package_id();
        let store = self.dir();
        fs::create_dir_all(&store).at("create", &store)?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{STAGING_PREFIX}{id}-"))
            .tempdir_in(&store)
            .at("create a staging directory in", &store)?;
        let mut entries = Vec::new();
        copy_in(
            &id,
            staged_prefix,
            Some(tmp.path()),
            Path::new(""),
            &mut entries,
        )?;
        entries.sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = Manifest { entries };

        let meta = tmp.path().join(META_DIR);
        fs::create_dir(&meta).at("create", &meta)?;
        copy_plain_tree(&port.dir, &meta.join("port"))?;
        fs::write(meta.join("manifest"), manifest.to_text()).at("write", &meta.join("manifest"))?;
        fs::copy(build_log, meta.join("build.log")).at("copy", build_log)?;
        Ok(Staged {
            tmp: Some(tmp),
            id,
            store,
            manifest,
        })
    }
}

/// A build copied into the store under a hidden name.
pub struct Staged {
    tmp: Option<tempfile::TempDir>,
    pub id: String,
    store: PathBuf,
    pub manifest: Manifest,
}

impl Staged {
    /// Make the tree read-only, flush it to disk, and rename it to its final
    /// name. Dropping a `Staged` without committing removes it.
    pub fn commit(mut self) -> Result<PathBuf> {
        let tmp = self.tmp.take().expect("committed once");
        let path = tmp.keep();
        let result = (|| {
            make_read_only(&path)?;
            crate::fault::point("store:staged");
            // One syncfs flushes every file of the tree; cheaper than an
            // fsync per file and just as durable before the rename.
            let dir = File::open(&path).at("open", &path)?;
            nix::unistd::syncfs(&dir).map_err(|e| Error::io("sync", &path, e.into()))?;
            let dest = self.store.join(&self.id);
            if dest.exists() {
                return Err(Error::Occupied {
                    package: self.id.clone(),
                    path: dest,
                });
            }
            fs::rename(&path, &dest).at("rename into place", &dest)?;
            fsync_dir(&self.store)?;
            crate::fault::point("store:committed");
            Ok(dest)
        })();
        if result.is_err() {
            let _ = remove_tree(&path);
        }
        result
    }
}

/// Copy `src/rel` into `dst/rel` recursively, validating each entry and
/// recording it in `entries`.
fn copy_in(
    id: &str,
    src_root: &Path,
    dst_root: Option<&Path>,
    rel: &Path,
    entries: &mut Vec<Entry>,
) -> Result<()> {
    let src = src_root.join(rel);
    let refuse = |path: &Path, reason: &str| Error::StagedTree {
        package: id.to_string(),
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let mut children: Vec<_> = fs::read_dir(&src)
        .at("read", &src)?
        .collect::<io::Result<_>>()
        .at("read", &src)?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let name = child.file_name();
        let child_rel = rel.join(&name);
        let shown = PathBuf::from("$PREFIX").join(&child_rel);
        let Some(name_str) = name.to_str() else {
            return Err(refuse(&shown, "file name is not UTF-8"));
        };
        if name_str.chars().any(char::is_control) {
            return Err(refuse(&shown, "file name contains control characters"));
        }
        if rel.as_os_str().is_empty() && name_str == META_DIR {
            return Err(refuse(
                &shown,
                "`.gport` at the top of a package is reserved for gport",
            ));
        }
        let from = child.path();
        let to = dst_root.map(|d| d.join(&child_rel));
        let meta = fs::symlink_metadata(&from).at("inspect", &from)?;
        let ft = meta.file_type();
        if ft.is_dir() {
            if let Some(to) = &to {
                fs::create_dir(to).at("create", to)?;
            }
            entries.push(Entry {
                path: child_rel.clone(),
                mode: 0o555,
                kind: Kind::Dir,
            });
            copy_in(id, src_root, dst_root, &child_rel, entries)?;
        } else if ft.is_file() {
            let mode = if meta.mode() & 0o111 != 0 {
                0o555
            } else {
                0o444
            };
            let mut input = File::open(&from).at("open", &from)?;
            let (sha256, size) = match &to {
                Some(to) => {
                    let mut out = OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .mode(0o644)
                        .custom_flags(libc_nofollow())
                        .open(to)
                        .at("create", to)?;
                    let r = copy_hashed(&mut input, &mut out, None).at("copy", &from)?;
                    out.set_permissions(fs::Permissions::from_mode(mode))
                        .at("set mode of", to)?;
                    r
                }
                None => copy_hashed(&mut input, &mut std::io::sink(), None).at("read", &from)?,
            };
            entries.push(Entry {
                path: child_rel,
                mode,
                kind: Kind::File { size, sha256 },
            });
        } else if ft.is_symlink() {
            let target = fs::read_link(&from).at("read link", &from)?;
            let Some(target_str) = target.to_str().filter(|t| !t.chars().any(char::is_control))
            else {
                return Err(refuse(&shown, "symlink target is not clean UTF-8"));
            };
            if target.is_absolute() {
                return Err(refuse(
                    &shown,
                    &format!("absolute symlink to {target_str}; links must be relative"),
                ));
            }
            if !stays_inside(&child_rel, &target) {
                return Err(refuse(
                    &shown,
                    &format!("symlink to {target_str} leaves the package"),
                ));
            }
            if let Some(to) = &to {
                std::os::unix::fs::symlink(&target, to).at("create symlink", to)?;
            }
            entries.push(Entry {
                path: child_rel,
                mode: 0o777,
                kind: Kind::Symlink {
                    target: target_str.to_string(),
                },
            });
        } else {
            return Err(refuse(
                &shown,
                "not a regular file, directory or symlink (device, fifo or socket)",
            ));
        }
    }
    Ok(())
}

/// The manifest a staged prefix would get if installed: the same checks
/// and normalised modes, nothing copied. For `build --check`.
pub fn manifest_of_staged(id: &str, staged_prefix: &Path) -> Result<Manifest> {
    let mut entries = Vec::new();
    copy_in(id, staged_prefix, None, Path::new(""), &mut entries)?;
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Manifest { entries })
}

/// Set every directory under `path` (and itself) to 0555, deepest first.
fn make_read_only(path: &Path) -> Result<()> {
    for entry in fs::read_dir(path).at("read", path)? {
        let entry = entry.at("read", path)?;
        if entry.file_type().at("inspect", &entry.path())?.is_dir() {
            make_read_only(&entry.path())?;
        }
    }
    fs::set_permissions(path, fs::Permissions::from_mode(0o555)).at("make read-only", path)
}

/// Copy a port directory (regular files and directories only) for the
/// package's record of what it was built from.
fn copy_plain_tree(src: &Path, dst: &Path) -> Result<()> {
    fs::create_dir(dst).at("create", dst)?;
    for entry in fs::read_dir(src).at("read", src)? {
        let entry = entry.at("read", src)?;
        let (from, to) = (entry.path(), dst.join(entry.file_name()));
        let ft = entry.file_type().at("inspect", &from)?;
        if ft.is_dir() {
            copy_plain_tree(&from, &to)?;
        } else if ft.is_file() {
            fs::copy(&from, &to).at("copy", &from)?;
        }
    }
    Ok(())
}

/// Check that a build's DESTDIR holds nothing but the path to its prefix.
pub fn check_destdir(id: &str, destdir: &Path, prefix: &Path) -> Result<PathBuf> {
    let mut cur = destdir.to_path_buf();
    let wanted: Vec<_> = prefix
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    for comp in &wanted {
        let entries: Vec<_> = match fs::read_dir(&cur) {
            Ok(e) => e.collect::<io::Result<_>>().at("read", &cur)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(Error::io("read", &cur, e)),
        };
        for entry in &entries {
            if entry.file_name() != comp.as_os_str() {
                let outside = Path::new("$DESTDIR")
                    .join(entry.path().strip_prefix(destdir).unwrap_or(&entry.path()));
                return Err(Error::StagedTree {
                    package: id.into(),
                    path: outside,
                    reason: "installed outside $PREFIX".into(),
                });
            }
        }
        cur.push(comp);
    }
    match fs::symlink_metadata(&cur) {
        Ok(m) if m.is_dir() => Ok(cur),
        _ => Err(Error::StagedTree {
            package: id.into(),
            path: Path::new("$DESTDIR").join(prefix.strip_prefix("/").unwrap_or(prefix)),
            reason: "the build script installed nothing into $DESTDIR$PREFIX".into(),
        }),
    }
}
