//! `gport lint [NAME...]`: what a reviewer would check in a port, mechanically.
//!
//! Errors are what would break a build or mislead an operator (the port does
//! not load, the script does not parse, a dependency is not in the tree, a
//! required field is empty). Warnings are what a reviewer would ask about
//! (plain-text URLs, unused files, patches without their DEP-3 header, the
//! `TODO` placeholders `gport new` writes): a port with only warnings passes,
//! so a skeleton is usable while it is being finished.

use std::collections::BTreeSet;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::Settings;
use crate::error::{Error, IoContext, Result};
use crate::fetch::chain;
use crate::port::Port;
use crate::tree::Tree;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub port: String,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {level}: {}", self.port, self.message)
    }
}

pub struct Lint {
    /// How many ports were checked.
    pub ports: usize,
    pub findings: Vec<Finding>,
}

/// Lint `names`, or every port of the tree when `names` is empty. An
/// unknown name is an error of the command, not a finding.
pub fn lint(settings: &Settings, names: &[String]) -> Result<Lint> {
    let tree = Tree::open(&settings.tree)?;
    let names: Vec<String> = if names.is_empty() {
        tree.names().map(String::from).collect()
    } else {
        for n in names {
            tree.dir(n)?;
        }
        names.to_vec()
    };
    let mut findings = Vec::new();
    for name in &names {
        let mut report = |severity, message| {
            findings.push(Finding {
                port: name.clone(),
                severity,
                message,
            })
        };
        match tree.load(name) {
            Ok(port) => lint_port(&tree, &port, &mut report)?,
            // The loader stops at the first problem and names file:line:col;
            // the default script can still be checked.
            Err(e) => {
                report(Severity::Error, chain(&e));
                let script = tree.dir(name)?.join("build.sh");
                if let Some(message) = script
                    .is_file()
                    .then(|| sh_syntax(&script))
                    .transpose()?
                    .flatten()
                {
                    report(Severity::Error, format!("build.sh: sh -n: {message}"));
                }
            }
        }
    }
    Ok(Lint {
        ports: names.len(),
        findings,
    })
}

fn lint_port(tree: &Tree, port: &Port, report: &mut dyn FnMut(Severity, String)) -> Result<()> {
    use Severity::{Error as E, Warning as W};

    let script = port.script_path();
    if let Some(message) = sh_syntax(&script)? {
        let shown = script.strip_prefix(&port.dir).unwrap_or(&script);
        report(E, format!("{}: sh -n: {message}", shown.display()));
    }

    for (field, value) in [
        ("summary", &port.summary),
        ("homepage", &port.homepage),
        ("license", &port.license),
    ] {
        if value.trim().is_empty() {
            report(E, format!("`{field}` is empty"));
        } else if value.starts_with("TODO") {
            report(W, format!("`{field}` is still a placeholder: {value:?}"));
        }
    }
    let home = &port.homepage;
    if !home.trim().is_empty() && !home.starts_with("TODO") {
        if !(home.starts_with("https://") || home.starts_with("http://")) || !has_host(home) {
            report(E, format!("homepage '{home}' is not an http(s) URL"));
        } else if home.starts_with("http://") {
            report(W, format!("homepage '{home}' is plain http (prefer https)"));
        }
    }

    // The loader has already refused schemes other than https, http, ftp.
    for url in port.sources.iter().flat_map(|s| &s.urls) {
        if !has_host(url) || url.chars().any(char::is_whitespace) {
            report(E, format!("source URL '{url}' is malformed"));
        } else if !url.starts_with("https://") {
            report(W, format!("source URL '{url}' is not https (prefer https)"));
        }
    }

    for (field, deps) in [
        ("depends", &port.depends),
        ("runtime-depends", &port.runtime_depends),
    ] {
        for dep in deps.iter().filter(|d| !tree.contains(d.as_str())) {
            let hint = tree
                .suggest(dep.as_str())
                .map(|s| format!(" (did you mean '{s}'?)"))
                .unwrap_or_default();
            report(
                E,
                format!("{field}: '{dep}' is not a port of the tree{hint}"),
            );
        }
    }

    for p in &port.patches {
        let path = port.patch_path(p);
        let text = fs::read(&path).at("read", &path)?;
        let missing = missing_dep3(&String::from_utf8_lossy(&text));
        if !missing.is_empty() {
            report(
                W,
                format!(
                    "patches/{}: DEP-3 header lacks {}",
                    p.file.get_ref().as_path().display(),
                    missing.join(", ")
                ),
            );
        }
    }

    for rel in unused_files(port)? {
        report(W, format!("unused file {}", rel.display()));
    }
    Ok(())
}

/// `sh -n SCRIPT`: None when it parses, else the shell's message.
fn sh_syntax(script: &Path) -> Result<Option<String>> {
    let out = Command::new("/bin/sh")
        .arg("-n")
        .arg(script)
        .output()
        .at("run /bin/sh -n on", script)?;
    if out.status.success() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&out.stderr);
    // The shell repeats the script's path on every line; the finding names
    // it once. dash writes `PATH: 3: message`, bash `PATH: line 3: message`.
    let prefix = format!("{}: ", script.display());
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.trim().strip_prefix(&prefix).unwrap_or(l.trim()))
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once(": ") {
            Some((n, rest)) if n.parse::<u32>().is_ok() => format!("line {n}: {rest}"),
            _ => l.to_string(),
        })
        .collect();
    Ok(Some(if lines.is_empty() {
        format!("failed ({})", out.status)
    } else {
        lines.join("; ")
    }))
}

/// `scheme://host...` with a non-empty host.
fn has_host(url: &str) -> bool {
    url.split_once("://")
        .is_some_and(|(_, rest)| !rest.split('/').next().unwrap_or_default().is_empty())
}

/// The DEP-3 fields a patch's header lacks: `Description` (or its alias
/// `Subject`), `Origin`, and an upstream status in `Forwarded` or
/// `Applied-Upstream`. The header is the `Key: value` lines before the first
/// line starting with `--- `, `diff ` or `Index:`; indented lines continue
/// the field above. Field names are case-insensitive, as in RFC 822.
pub fn missing_dep3(text: &str) -> Vec<&'static str> {
    let mut fields = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("--- ") || line.starts_with("diff ") || line.starts_with("Index:") {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            let is_key =
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if is_key && !value.trim().is_empty() {
                fields.insert(key.to_ascii_lowercase());
            }
        }
    }
    let has = |names: &[&str]| names.iter().any(|n| fields.contains(*n));
    let mut missing = Vec::new();
    if !has(&["description", "subject"]) {
        missing.push("Description");
    }
    if !has(&["origin"]) {
        missing.push("Origin");
    }
    if !has(&["forwarded", "applied-upstream"]) {
        missing.push("Forwarded or Applied-Upstream");
    }
    missing
}

/// Files in the port's directory that nothing references: not port.toml,
/// the build script, a listed patch or a listed overlay. Paths are relative
/// to the port's directory, sorted; symlinks count as files (never
/// followed), empty directories are ignored.
fn unused_files(port: &Port) -> Result<Vec<PathBuf>> {
    let mut used: BTreeSet<PathBuf> = BTreeSet::new();
    used.insert("port.toml".into());
    if let Ok(rel) = port.script_path().strip_prefix(&port.dir) {
        used.insert(rel.to_path_buf());
    }
    for p in &port.patches {
        used.insert(Path::new("patches").join(p.file.get_ref().as_path()));
    }
    for o in &port.overlays {
        used.insert(Path::new("files").join(o.as_path()));
    }
    let mut all = Vec::new();
    walk(&port.dir, Path::new(""), &mut all)?;
    Ok(all.into_iter().filter(|p| !used.contains(p)).collect())
}

fn walk(base: &Path, rel: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let dir = base.join(rel);
    let mut entries = fs::read_dir(&dir)
        .at("read directory", &dir)?
        .collect::<std::io::Result<Vec<_>>>()
        .at("read directory", &dir)?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = rel.join(e.file_name());
        if e.file_type().at("inspect", &e.path())?.is_dir() {
            walk(base, &path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// The error `gport lint` exits with when a finding is an error.
pub fn verdict(findings: &[Finding]) -> Result<()> {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    if errors > 0 {
        return Err(Error::LintFailed {
            errors,
            warnings: findings.len() - errors,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dep3_header_is_read_up_to_the_first_diff() {
        let good = "Description: fix\n more text\nOrigin: vendor\nForwarded: not-needed\n--- a/x\n+++ b/x\n";
        assert!(missing_dep3(good).is_empty());
        let git = "subject: fix\norigin: upstream\nApplied-Upstream: 1.2\n\ndiff --git a/x b/x\n";
        assert!(missing_dep3(git).is_empty());
        // A field after the diff starts does not count, nor an empty one.
        let late = "Description: fix\nOrigin:\n--- a/x\n+++ b/x\nForwarded: no\n";
        assert_eq!(
            missing_dep3(late),
            ["Origin", "Forwarded or Applied-Upstream"]
        );
        assert_eq!(missing_dep3("Index: x\n").len(), 3);
    }

    #[test]
    fn urls_need_a_host() {
        assert!(has_host("https://example.org/x.tar.gz"));
        assert!(!has_host("https:///x.tar.gz"));
        assert!(!has_host("example.org/x"));
    }
}
