//! One error type for the library, with the data in each variant.
//!
//! The CLI prints an error as `error:` (the Display text), then each
//! `caused by:` of its source chain, then `hint:` from [`Error::hint`]. Every
//! I/O error names its path: call sites wrap `std::io::Error` with
//! [`IoContext::at`] so no message ever says just "No such file".

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One link that cannot be created, and who holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// Path relative to the root, e.g. `usr/bin/lua`.
    pub path: PathBuf,
    /// The package that wants the link (`NAME-VERSION`).
    pub wanted_by: String,
    /// What is there now: another package's name, or a description of a
    /// foreign file.
    pub held_by: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "/{} is wanted by {} but held by {}",
            self.path.display(),
            self.wanted_by,
            self.held_by
        )
    }
}

/// A source whose file no longer matches the checksum its port records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecksumChange {
    pub file: String,
    /// What port.toml says (None where it says nothing).
    pub old_sha256: Option<String>,
    pub old_size: Option<u64>,
    /// What the file has.
    pub new_sha256: String,
    pub new_size: u64,
}

impl fmt::Display for ChecksumChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let none = || "(none)".to_string();
        write!(
            f,
            "{}: sha256 {} -> {}, size {} -> {}",
            self.file,
            self.old_sha256.clone().unwrap_or_else(none),
            self.new_sha256,
            self.old_size.map_or_else(none, |s| s.to_string()),
            self.new_size
        )
    }
}

/// Where an error in a text file is: file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text`.
    pub fn of_offset(file: &Path, text: &str, offset: usize) -> Self {
        let before = &text[..offset.min(text.len())];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        Location {
            file: file.to_path_buf(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot {op} {}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{location}: {message}")]
    Syntax { location: Location, message: String },

    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },

    #[error("unknown port '{name}'")]
    UnknownPort {
        name: String,
        suggestion: Option<String>,
    },

    #[error("port '{name}' is defined twice: {} and {}", first.display(), second.display())]
    DuplicatePort {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },

    #[error("port '{port}' depends on '{dependency}', which is not in the tree")]
    MissingDependency { port: String, dependency: String },

    #[error("dependency cycle: {}", cycle.join(" -> "))]
    DependencyCycle { cycle: Vec<String> },

    #[error(
        "{file}: checksum mismatch (from {origin})\n  expected: sha256 {expected_sha256}, {expected_size} bytes\n  actual:   sha256 {actual_sha256}, {actual_size} bytes{}",
        kept_at.as_ref().map(|p| format!("\n  the bad copy was set aside as {}", p.display())).unwrap_or_default()
    )]
    Checksum {
        file: String,
        origin: String,
        expected_sha256: String,
        expected_size: u64,
        actual_sha256: String,
        actual_size: u64,
        kept_at: Option<PathBuf>,
    },

    #[error("{port}: {} no longer match{} the checksum in port.toml; nothing was written\n{}",
        if changes.len() == 1 { "a source" } else { "sources" }, if changes.len() == 1 { "es" } else { "" },
        changes.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n"))]
    ChecksumChanged {
        port: String,
        changes: Vec<ChecksumChange>,
    },

    #[error("lint found {errors} error{} and {warnings} warning{}",
        if *errors == 1 { "" } else { "s" }, if *warnings == 1 { "" } else { "s" })]
    LintFailed { errors: usize, warnings: usize },

    #[error("port '{name}' already exists: {}", path.display())]
    PortExists { name: String, path: PathBuf },

    #[error("cannot fetch {file}: every location failed\n{}", attempts.iter().map(|a| format!("  - {a}")).collect::<Vec<_>>().join("\n"))]
    FetchFailed { file: String, attempts: Vec<String> },

    #[error("{}: refusing entry '{entry}': {reason}", archive.display())]
    UnsafeArchive {
        archive: PathBuf,
        entry: String,
        reason: String,
    },

    #[error("{}: cannot read archive", archive.display())]
    Archive {
        archive: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("{}: {message}", patch.display())]
    PatchParse { patch: PathBuf, message: String },

    #[error("{}: hunk #{hunk} does not apply to {file}", patch.display())]
    PatchHunk {
        patch: PathBuf,
        file: String,
        hunk: usize,
    },

    #[error("{}: cannot patch {file}: {reason}", patch.display())]
    PatchTarget {
        patch: PathBuf,
        file: String,
        reason: String,
    },

    #[error("build of {package} failed ({status})\n{}\n{}\n{}", RULER, tail.trim_end(), RULER)]
    BuildFailed {
        package: String,
        status: String,
        log: PathBuf,
        tail: String,
    },

    #[error("{package}: the build installed something gport refuses: {} ({reason})", path.display())]
    StagedTree {
        package: String,
        path: PathBuf,
        reason: String,
    },

    #[error("{} conflicting link{}:\n{}", conflicts.len(), if conflicts.len() == 1 { "" } else { "s" },
        conflicts.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n"))]
    Conflicts { conflicts: Vec<Conflict> },

    #[error("{package} is already installed at {}, but it is not a complete gport package", path.display())]
    Occupied { package: String, path: PathBuf },

    #[error("refusing to build {package} without a sandbox: {reason}")]
    SandboxUnavailable { package: String, reason: String },

    #[error("{package} does not build reproducibly: {count} difference(s)")]
    NotReproducible { package: String, count: usize },

    #[error("package '{name}' is not installed")]
    NotInstalled { name: String },

    #[error("{name} has no installed build {version} (installed: {})", if installed.is_empty() { "none".to_string() } else { installed.join(", ") })]
    NoSuchBuild {
        name: String,
        version: String,
        installed: Vec<String>,
    },

    #[error("cannot roll back {name}: {why}")]
    NoRollback { name: String, why: String },

    #[error("{name} is a runtime dependency of {}", by.join(", "))]
    Required { name: String, by: Vec<String> },

    #[error(
        "incomplete: {conflicts} conflict(s), {refused} refused path(s), {failed} failed download(s)"
    )]
    SyncIncomplete {
        conflicts: usize,
        refused: usize,
        failed: usize,
    },

    #[error(
        "audit failed: {failing} failing patch(es), {incomplete} with incomplete headers, {orphans} orphan(s), {errors} port(s) not audited"
    )]
    AuditFailed {
        failing: usize,
        incomplete: usize,
        orphans: usize,
        errors: usize,
    },

    #[error("{count} problem{} found", if *count == 1 { "" } else { "s" })]
    Inconsistent { count: usize },

    #[error("{}: not owned by any package", path.display())]
    NotOwned { path: PathBuf },

    #[error("{}", message)]
    Usage { message: String },
}

const RULER: &str = "----------------------------------------------------------------";

impl Error {
    /// A suggestion for the operator, where there is a useful one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::UnknownPort {
                suggestion: Some(s),
                ..
            } => Some(format!("did you mean '{s}'?")),
            Error::UnknownPort { .. } => {
                Some("`gport list --available` shows the ports of the tree".into())
            }
            Error::Checksum { .. } => Some(
                "the file differs from what the port names; if upstream re-rolled the \
                 tarball, check why before updating the port with `gport checksum --update`"
                    .into(),
            ),
            Error::ChecksumChanged { port, .. } => Some(format!(
                "if upstream re-rolled the tarball, find out why before recording the new \
                 checksum with `gport checksum --update {port}`; to fetch afresh, delete the \
                 store copy first"
            )),
            Error::LintFailed { .. } => {
                Some("errors are listed above as `NAME: error: ...`; warnings alone pass".into())
            }
            Error::PortExists { .. } => Some(
                "choose another name, or edit the existing port (`gport checksum NAME` \
                 refreshes its checksums)"
                    .into(),
            ),
            Error::FetchFailed { file, .. } => Some(format!(
                "put a verified copy of {file} into the distfiles store (--distfiles, \
                 GPORT_DISTFILES), or configure a mirror that has it"
            )),
            Error::UnsafeArchive { .. } => {
                Some("the tarball is hostile or broken; nothing from it was kept".into())
            }
            Error::PatchHunk { .. } | Error::PatchTarget { .. } => Some(
                "refresh the patch against the pristine source (`gport extract NAME`), \
                 or drop it if upstream has taken it"
                    .into(),
            ),
            Error::BuildFailed { log, .. } => Some(format!("the full log is {}", log.display())),
            Error::Conflicts { .. } => Some(
                "nothing was changed; remove or move the foreign files, or exclude the \
                 paths in the port's [links] table"
                    .into(),
            ),
            Error::DependencyCycle { .. } => {
                Some("break the cycle in the ports' `depends` lists".into())
            }
            Error::NotInstalled { .. } => Some("`gport list` shows installed packages".into()),
            Error::NotReproducible { .. } => Some(
                "make the build deterministic (SOURCE_DATE_EPOCH, no build paths or times embedded), or document why in [build] unreproducible".into(),
            ),
            Error::SandboxUnavailable { .. } => Some(
                "enable user namespaces, or set `sandbox = false` in ROOT/etc/gport.conf to allow unsandboxed builds (the build script then runs with your privileges and network)".into(),
            ),
            Error::NoSuchBuild { name, .. } => Some(format!("`gport install {name}` builds the tree's version; `gport list` shows what is installed")),
            Error::NoRollback { .. } => Some("`gport history` shows what the journal remembers; `gport switch NAME VERSION` activates any installed build".into()),
            Error::Required { .. } => Some("remove the dependents first, or pass --force".into()),
            Error::SyncIncomplete { .. } => Some("existing files are never changed: resolve conflicts by hand; failed downloads resume on the next sync".into()),
            Error::Inconsistent { .. } => Some("`gport check --repair` fixes what gport created; modified files need a reinstall of their package".into()),
            _ => None,
        }
    }

    /// The process exit code for this error (documented in docs/gport.1.md).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage { .. } => 2,
            Error::Conflicts { .. } => 3,
            _ => 1,
        }
    }
}

/// Attach the failing operation and path to an `io::Error`.
pub trait IoContext<T> {
    fn at(self, op: &'static str, path: &Path) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, op: &'static str, path: &Path) -> Result<T> {
        self.map_err(|source| Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        })
    }
}

impl Error {
    pub fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}
