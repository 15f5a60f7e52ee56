//! Settings: flag, then environment (`GPORT_*`), then `ROOT/etc/gport.conf`,
//! then the built-in default.
//!
//! The CLI (with clap's `env`) folds flag and environment into
//! [`Overrides`]; this module adds the file and the defaults. The caches
//! (distfiles, work dirs) are paths on the machine running gport, not under
//! `--root`: installing into a chroot or a scratch root reuses the host's
//! verified sources and keeps build debris out of the target.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Location, Result};
use crate::link::{LinkRule, LinkSet, default_rules};

pub const DEFAULT_TREE: &str = "/usr/gports";
pub const DEFAULT_DISTFILES: &str = "/var/cache/gport/distfiles";
pub const DEFAULT_WORKDIR: &str = "/var/tmp/gport";
pub const CONFIG_PATH: &str = "etc/gport.conf";

/// The configuration file, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub tree: Option<PathBuf>,
    pub distfiles: Option<PathBuf>,
    pub workdir: Option<PathBuf>,
    pub mirrors: Option<Vec<String>>,
    pub jobs: Option<usize>,
    pub cc: Option<String>,
    pub hostcc: Option<String>,
    pub cflags: Option<String>,
    pub ldflags: Option<String>,
    /// Replaces the built-in link rules when present.
    pub link: Option<Vec<LinkRule>>,
    /// Build in the sandbox (default true); false allows unsandboxed builds.
    pub sandbox: Option<bool>,
}

impl ConfigFile {
    /// Read `path`; a missing file is an empty configuration unless it was
    /// named explicitly.
    pub fn load(path: &Path, explicit: bool) -> Result<ConfigFile> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                return Ok(ConfigFile::default());
            }
            Err(e) => return Err(Error::io("read the configuration", path, e)),
        };
        toml::from_str(&text).map_err(|e| Error::Syntax {
            location: Location::of_offset(path, &text, e.span().map_or(0, |s| s.start)),
            message: e.message().trim_end().to_string(),
        })
    }
}

/// Values given by flag or environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub root: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub tree: Option<PathBuf>,
    pub distfiles: Option<PathBuf>,
    pub workdir: Option<PathBuf>,
    pub mirrors: Option<Vec<String>>,
    pub jobs: Option<usize>,
    pub dry_run: bool,
    pub verbose: u8,
    pub quiet: bool,
}

/// Everything an operation needs to know, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub root: PathBuf,
    pub tree: PathBuf,
    pub distfiles: PathBuf,
    pub workdir: PathBuf,
    pub mirrors: Vec<String>,
    pub jobs: usize,
    pub cc: String,
    pub hostcc: String,
    pub cflags: String,
    pub ldflags: String,
    pub links: Vec<LinkRule>,
    /// Run build scripts in the sandbox (`sandbox` in gport.conf).
    pub sandbox: bool,
    pub dry_run: bool,
    pub verbose: u8,
    pub quiet: bool,
    /// Progress bars allowed (off for `--json` listings); drawn only on a
    /// terminal (see `ui`).
    pub progress: bool,
}

impl Settings {
    /// The same settings with progress bars off (for `--json` output).
    pub fn without_progress(&self) -> Settings {
        Settings {
            progress: false,
            ..self.clone()
        }
    }

    pub fn resolve(o: Overrides) -> Result<Settings> {
        let root = absolute(o.root.unwrap_or_else(|| PathBuf::from("/")))?;
        let (config_path, explicit) = match o.config {
            Some(p) => (p, true),
            None => (root.join(CONFIG_PATH), false),
        };
        let file = ConfigFile::load(&config_path, explicit)?;
        let links = file.link.unwrap_or_else(default_rules);
        // Fail early on a bad rule, naming the configuration file.
        LinkSet::new(&links, &[], &[]).map_err(|e| Error::Invalid {
            path: config_path.clone(),
            message: format!("bad [[link]] rule: {e}"),
        })?;
        let jobs = o
            .jobs
            .or(file.jobs)
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
        if jobs == 0 {
            return Err(Error::Usage {
                message: "jobs must be at least 1".into(),
            });
        }
        Ok(Settings {
            tree: absolute(o.tree.or(file.tree).unwrap_or_else(|| DEFAULT_TREE.into()))?,
            distfiles: absolute(
                o.distfiles
                    .or(file.distfiles)
                    .unwrap_or_else(|| DEFAULT_DISTFILES.into()),
            )?,
            workdir: absolute(
                o.workdir
                    .or(file.workdir)
                    .unwrap_or_else(|| DEFAULT_WORKDIR.into()),
            )?,
            mirrors: o.mirrors.or(file.mirrors).unwrap_or_default(),
            jobs,
            cc: file.cc.unwrap_or_else(|| "musl-gcc".into()),
            hostcc: file.hostcc.unwrap_or_else(|| "cc".into()),
            cflags: file.cflags.unwrap_or_else(|| "-Os -pipe".into()),
            ldflags: file.ldflags.unwrap_or_else(|| "-static".into()),
            links,
            sandbox: file.sandbox.unwrap_or(true),
            root,
            dry_run: o.dry_run,
            verbose: o.verbose,
            quiet: o.quiet,
            progress: true,
        })
    }
}

fn absolute(p: PathBuf) -> Result<PathBuf> {
    std::path::absolute(&p).map_err(|e| Error::io("resolve", &p, e))
}

/// CPUs this process may run on, for spreading a few thousand system calls
/// over threads. (Not `available_parallelism`, which also reads cgroup
/// files: that costs more than such work. Build jobs, which a CPU quota
/// should bound, use it.)
pub fn cpus() -> usize {
    use nix::sched::{CpuSet, sched_getaffinity};
    use nix::unistd::Pid;
    sched_getaffinity(Pid::from_raw(0)).map_or(1, |set| {
        (0..CpuSet::count())
            .filter(|&i| set.is_set(i).unwrap_or(false))
            .count()
            .max(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precedence_flag_over_file_over_default() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("etc")).unwrap();
        fs::write(
            root.path().join(CONFIG_PATH),
            "jobs = 3\ndistfiles = \"/srv/d\"\n",
        )
        .unwrap();
        let base = Overrides {
            root: Some(root.path().into()),
            ..Default::default()
        };
        let s = Settings::resolve(base.clone()).unwrap();
        assert_eq!(s.jobs, 3);
        assert_eq!(s.distfiles, PathBuf::from("/srv/d"));
        assert_eq!(s.workdir, PathBuf::from(DEFAULT_WORKDIR));
        let s = Settings::resolve(Overrides {
            jobs: Some(7),
            ..base
        })
        .unwrap();
        assert_eq!(s.jobs, 7);
    }

    #[test]
    fn config_errors_have_line_and_column() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join("etc")).unwrap();
        fs::write(root.path().join(CONFIG_PATH), "jobs = 3\njbos = 4\n").unwrap();
        let err = Settings::resolve(Overrides {
            root: Some(root.path().into()),
            ..Default::default()
        })
        .unwrap_err();
        assert!(err.to_string().contains("gport.conf:2:1"), "{err}");
    }
}
