//! Preparing a port's source and running its build script.
//!
//! The work dir `WORKDIR/NAME-VERSION/` holds `src/` (unpacked, patched,
//! overlaid), `dest/` (the script's `DESTDIR`), `home/`, `tmp/` and
//! `build.log`. It is recreated for each build and removed after a
//! successful install; a failed build leaves it for inspection.
//!
//! The script runs as `/bin/sh -e SCRIPT` in the source directory with a
//! clean environment (documented in docs/gports.5.md): nothing leaks in
//! from the caller, so a build is the same from a terminal, cron, or CI.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::atomic::remove_tree;
use crate::config::Settings;
use crate::error::{Error, IoContext, Result};
use crate::extract;
use crate::fetch::Fetcher;
use crate::lock::Lock;
use crate::patch;
use crate::port::Port;
use crate::sandbox::{self, Sandbox};
use crate::store::{STORE_DIR, Store, check_destdir};
use crate::ui;
use std::sync::Arc;

/// The directories of one build.
pub struct WorkDir {
    _lock: Lock,
    pub dir: PathBuf,
    pub src: PathBuf,
    pub dest: PathBuf,
    pub log: PathBuf,
}

impl WorkDir {
    /// A fresh work dir for `port` under the configured work area.
    pub fn create(settings: &Settings, port: &Port) -> Result<WorkDir> {
        Self::create_named(settings, &port.package_id())
    }

    /// A fresh work dir named `id` (a second build for `--check` uses
    /// another name, so its paths differ).
    pub fn create_named(settings: &Settings, id: &str) -> Result<WorkDir> {
        let lock = Lock::acquire_file(&settings.workdir.join(format!(".{id}.lock")), |m| {
            ui::status(settings, m)
        })?;
        let dir = settings.workdir.join(id);
        remove_tree(&dir)?;
        for sub in ["src", "dest", "home", "tmp"] {
            let d = dir.join(sub);
            fs::create_dir_all(&d).at("create", &d)?;
        }
        Ok(WorkDir {
            _lock: lock,
            src: dir.join("src"),
            dest: dir.join("dest"),
            log: dir.join("build.log"),
            dir,
        })
    }

    pub fn remove(self) -> Result<()> {
        remove_tree(&self.dir)
    }
}

/// The prefix a package has on the target system.
pub fn prefix(port: &Port) -> PathBuf {
    Path::new("/").join(STORE_DIR).join(port.package_id())
}

/// Unpack the (verified) sources, apply patches and overlays; return the
/// source directory the script runs in and the newest mtime seen (for
/// SOURCE_DATE_EPOCH).
pub fn prepare_source(
    settings: &Settings,
    port: &Port,
    work: &WorkDir,
    distfiles: &[PathBuf],
) -> Result<(PathBuf, u64)> {
    let mut newest = 0;
    for (src, file) in port.sources.iter().zip(distfiles) {
        if src.extract {
            let size = fs::metadata(file).map_or(0, |m| m.len());
            let bar =
                ui::Progress::bytes(settings, size, &format!("unpacking {}", src.file_name()));
            newest = newest.max(extract::extract_with(file, &work.src, &bar)?.newest_mtime);
        } else {
            let to = work.src.join(src.file_name());
            fs::copy(file, &to).at("copy", file)?;
        }
    }
    let srcdir = match &port.build.srcdir {
        Some(d) => work.src.join(d.as_path()),
        None => single_top_dir(&work.src)?,
    };
    if !srcdir.is_dir() {
        return Err(Error::Invalid {
            path: port.dir.join("port.toml"),
            message: format!(
                "[build] srcdir {} does not exist after unpacking",
                srcdir.display()
            ),
        });
    }
    for p in &port.patches {
        patch::apply(&port.patch_path(p), p.strip, &srcdir)?;
    }
    for o in &port.overlays {
        patch::overlay(&port.overlay_path(o), &srcdir, o.as_path())?;
    }
    Ok((srcdir, newest))
}

/// The one directory the first source unpacked into, or `src/` itself.
pub fn single_top_dir(src: &Path) -> Result<PathBuf> {
    let entries: Vec<_> = fs::read_dir(src)
        .at("read", src)?
        .filter_map(|e| e.ok())
        .collect();
    match entries.as_slice() {
        [one] if one.file_type().map(|t| t.is_dir()).unwrap_or(false) => Ok(one.path()),
        _ => Ok(src.to_path_buf()),
    }
}

/// A dependency as the build sees it: its name and its installed directory
/// on this machine.
pub struct Dep {
    pub name: String,
    pub dir: PathBuf,
}

/// The build script's environment.
pub fn environment(
    settings: &Settings,
    port: &Port,
    work: &WorkDir,
    srcdir: &Path,
    deps: &[Dep],
    epoch: u64,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    let mut set = |k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    let mut inc = Vec::new();
    let mut lib = Vec::new();
    let mut path = Vec::new();
    for dep in deps {
        let var = format!(
            "DEP_{}",
            dep.name.to_ascii_uppercase().replace(['-', '.', '+'], "_")
        );
        let d = dep.dir.display();
        inc.push(format!("-I{d}/include"));
        lib.push(format!("-L{d}/lib"));
        path.push(format!("{d}/bin"));
        set(&format!("{var}_CFLAGS"), format!("-I{d}/include"));
        set(&format!("{var}_LDFLAGS"), format!("-L{d}/lib"));
        set(&var, d.to_string());
    }
    path.push("/usr/local/bin:/usr/bin:/bin".into());
    let join = |base: &str, extra: &[String]| {
        std::iter::once(base.to_string())
            .chain(extra.iter().cloned())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    set("NAME", port.name.to_string());
    set("VERSION", port.full_version());
    set("PREFIX", prefix(port).display().to_string());
    set("DESTDIR", work.dest.display().to_string());
    set("CC", settings.cc.clone());
    set("HOSTCC", settings.hostcc.clone());
    set("CFLAGS", join(&settings.cflags, &inc));
    set("CPPFLAGS", inc.join(" "));
    set("LDFLAGS", join(&settings.ldflags, &lib));
    set("JOBS", settings.jobs.to_string());
    set("PORTDIR", port.dir.display().to_string());
    set("WORKDIR", work.dir.display().to_string());
    set("SRCDIR", srcdir.display().to_string());
    set("HOME", work.dir.join("home").display().to_string());
    set("TMPDIR", work.dir.join("tmp").display().to_string());
    set("PATH", path.join(":"));
    set("LC_ALL", "C".into());
    set("TZ", "UTC".into());
    set("SOURCE_DATE_EPOCH", epoch.to_string());
    env
}

/// Run the build script, output to the log. On failure the error carries
/// the log's tail and its path.
pub fn run_script(
    settings: &Settings,
    port: &Port,
    work: &WorkDir,
    srcdir: &Path,
    env: &BTreeMap<String, String>,
    deps: &[Dep],
) -> Result<()> {
    let log = File::create(&work.log).at("create", &work.log)?;
    let script = port.script_path();
    let mut cmd = Command::new("/bin/sh");
    // SAFETY: umask is a plain system call.
    unsafe {
        cmd.pre_exec(|| {
            nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
            Ok(())
        });
    }
    if settings.sandbox {
        sandbox::probe().map_err(|reason| Error::SandboxUnavailable {
            package: port.package_id(),
            reason,
        })?;
        let readable: Vec<&Path> = std::iter::once(port.dir.as_path())
            .chain(deps.iter().map(|d| d.dir.as_path()))
            .collect();
        let sb = Sandbox::new(&[work.dir.as_path()], &readable, srcdir).map_err(|e| {
            Error::SandboxUnavailable {
                package: port.package_id(),
                reason: format!("cannot prepare it: {e}"),
            }
        })?;
        Arc::new(sb).apply(&mut cmd);
    } else {
        ui::warn(
            settings,
            &format!(
                "building {} WITHOUT a sandbox (sandbox = false): the script can use the network and write anywhere you can",
                port.package_id()
            ),
        );
    }
    let _spinner = ui::Progress::spinner(
        settings,
        &format!(
            "building {} (log: {})",
            port.package_id(),
            work.log.display()
        ),
    );
    let status = cmd
        .arg("-e")
        .arg(&script)
        .current_dir(srcdir)
        .env_clear()
        .envs(env)
        .stdin(Stdio::null())
        .stdout(log.try_clone().at("open", &work.log)?)
        .stderr(log)
        .status()
        .at("run /bin/sh for", &script)?;
    if status.success() {
        return Ok(());
    }
    Err(Error::BuildFailed {
        package: port.package_id(),
        status: status.to_string(),
        log: work.log.clone(),
        tail: tail(&work.log, 25),
    })
}

/// The last `lines` lines of a file (reading at most its last 64 KiB).
fn tail(path: &Path, lines: usize) -> String {
    let Ok(mut f) = File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(64 * 1024)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Each dependency's active build, which must be installed by now.
pub fn dependencies(store: &Store, port: &Port) -> Result<Vec<Dep>> {
    port.depends
        .iter()
        .map(|d| {
            let id = store
                .active(d.as_str())?
                .ok_or_else(|| Error::NotInstalled {
                    name: d.to_string(),
                })?;
            Ok(Dep {
                name: d.to_string(),
                dir: store.package_dir(&id),
            })
        })
        .collect()
}

/// Fetch, prepare and build `port` in the work dir `dirname`; return the
/// work dir and the staged prefix (checked: nothing outside it).
pub fn build(
    settings: &Settings,
    store: &Store,
    port: &Port,
    dirname: &str,
) -> Result<(WorkDir, PathBuf)> {
    let distfiles = Fetcher::new(settings).fetch_all(port)?;
    ui::status(settings, &format!("building {}", port.package_id()));
    let work = WorkDir::create_named(settings, dirname)?;
    let (srcdir, epoch) = prepare_source(settings, port, &work, &distfiles)?;
    let deps = dependencies(store, port)?;
    let env = environment(
        settings,
        port,
        &work,
        &srcdir,
        &deps,
        port.build.source_date_epoch.unwrap_or(epoch),
    );
    run_script(settings, port, &work, &srcdir, &env, &deps)?;
    let staged = check_destdir(&port.package_id(), &work.dest, &prefix(port))?;
    Ok((work, staged))
}
