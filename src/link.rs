//! Which package paths are linked where, and planning those links.
//!
//! A rule maps a glob over package paths to a directory in the root: the
//! glob's literal leading directories are replaced by `to`, so `bin/*` ->
//! `usr/bin` links `bin/lua` as `usr/bin/lua`, and `share/man/**` ->
//! `usr/share/man` links `share/man/man1/lua.1` as `usr/share/man/man1/lua.1`.
//!
//! Every link points *through* the package pointer `gales/pkg/NAME`, so
//! switching versions with identical file lists is one rename of the pointer.
//! Ownership is read from the link itself: a symlink whose target resolves
//! to `gales/pkg/NAME/...` belongs to package NAME. Nothing else is gport's.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::error::{Error, IoContext, Result};
use crate::paths::check_rel_path;
use crate::store::STORE_DIR;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRule {
    pub pattern: String,
    pub to: String,
}

impl LinkRule {
    pub fn new(pattern: &str, to: &str) -> Self {
        LinkRule {
            pattern: pattern.into(),
            to: to.into(),
        }
    }
}

/// The built-in rules: what an operator runs, reads, or adapts.
pub fn default_rules() -> Vec<LinkRule> {
    vec![
        LinkRule::new("bin/*", "usr/bin"),
        LinkRule::new("sbin/*", "usr/sbin"),
        LinkRule::new("share/man/**", "usr/share/man"),
        LinkRule::new("etc/**", "etc/examples"),
    ]
}

struct CompiledRule {
    matcher: GlobMatcher,
    literal: PathBuf,
    to: PathBuf,
}

/// The rules in force for one package: configured rules plus the port's
/// extra rules, minus its exclusions.
pub struct LinkSet {
    rules: Vec<CompiledRule>,
    exclude: GlobSet,
}

fn glob(pattern: &str) -> Result<Glob> {
    GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| Error::Invalid {
            path: PathBuf::from(pattern),
            message: format!("invalid link pattern: {e}"),
        })
}

impl LinkSet {
    pub fn new(rules: &[LinkRule], extra: &[LinkRule], exclude: &[String]) -> Result<LinkSet> {
        let mut compiled = Vec::new();
        for rule in extra.iter().chain(rules) {
            check_rule(rule)?;
            let literal: PathBuf = Path::new(&rule.pattern)
                .components()
                .take_while(|c| {
                    !c.as_os_str()
                        .to_string_lossy()
                        .contains(['*', '?', '[', '{', '\\'])
                })
                .collect();
            compiled.push(CompiledRule {
                matcher: glob(&rule.pattern)?.compile_matcher(),
                literal,
                to: PathBuf::from(&rule.to),
            });
        }
        let mut set = GlobSetBuilder::new();
        for pattern in exclude {
            set.add(glob(pattern)?);
        }
        let exclude = set.build().map_err(|e| Error::Invalid {
            path: PathBuf::from("[links] exclude"),
            message: e.to_string(),
        })?;
        Ok(LinkSet {
            rules: compiled,
            exclude,
        })
    }

    /// Where package path `rel` (relative to the prefix) is linked, if at all.
    /// The first matching rule wins; a port's extra rules come first.
    pub fn link_path(&self, rel: &Path) -> Option<PathBuf> {
        if rel.starts_with(".gport") || self.exclude.is_match(rel) {
            return None;
        }
        let rule = self.rules.iter().find(|r| r.matcher.is_match(rel))?;
        let rest = rel.strip_prefix(&rule.literal).ok()?;
        Some(rule.to.join(rest))
    }
}

/// A rule's destination must be a plain relative path, outside the store,
/// and never under `etc/` except `etc/examples/`: live configuration is the
/// operator's.
fn check_rule(rule: &LinkRule) -> Result<()> {
    let bad = |message: String| Error::Invalid {
        path: PathBuf::from(&rule.to),
        message,
    };
    check_rel_path(&rule.to).map_err(&bad)?;
    let to = Path::new(&rule.to);
    if to.starts_with("etc") && !to.starts_with("etc/examples") {
        return Err(bad(format!(
            "link rule '{}' would write live configuration; only etc/examples is allowed under etc",
            rule.pattern
        )));
    }
    if to.starts_with("gales") {
        return Err(bad("link rules cannot point into gales/".into()));
    }
    Ok(())
}

/// The symlink text for a link at root-relative `link` pointing at package
/// path `rel` of package `name`, through its pointer.
pub fn link_target(link: &Path, name: &str, rel: &Path) -> PathBuf {
    let depth = link.parent().map_or(0, |p| p.components().count());
    let mut t = PathBuf::new();
    for _ in 0..depth {
        t.push("..");
    }
    t.push(STORE_DIR);
    t.push(name);
    t.push(rel);
    t
}

/// The symlink text for a link pinned to build `id` (not through the
/// pointer), used while a switch is in progress.
pub fn pinned_target(link: &Path, id: &str, rel: &Path) -> PathBuf {
    link_target(link, id, rel)
}

/// What is at a link path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Absent,
    /// A symlink into the store that resolves, belonging to package `name`:
    /// through its pointer (`pinned` None), or straight into one of its
    /// builds (`pinned` Some(ID), the state a switch holds a link in around
    /// the pointer flip). `rel` is the package path it reaches.
    Package {
        name: String,
        pinned: Option<String>,
        rel: PathBuf,
        target: PathBuf,
    },
    /// A symlink into the store that no longer resolves: debris of an
    /// interrupted operation, gport's to replace or remove.
    Dangling {
        target: PathBuf,
    },
    /// Anything else: a file, a directory, a foreign symlink, or a path whose
    /// parent is not a plain directory. The string says what.
    Foreign(String),
}

/// The package name of a build id `NAME-VERSION` (versions hold no `-`).
pub fn name_of_id(id: &str) -> &str {
    id.rsplit_once('-').map_or(id, |(n, _)| n)
}

/// Resolve a symlink's text lexically against the root-relative directory
/// holding it. None when it leaves the root or is absolute.
fn resolve_lexically(dir: &Path, target: &Path) -> Option<PathBuf> {
    let mut out: Vec<Component> = dir.components().collect();
    for c in target.components() {
        match c {
            Component::Normal(_) => out.push(c),
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            _ => return None,
        }
    }
    Some(out.iter().collect())
}

/// If `path` (root-relative) names something inside the store, the package
/// pointer or directory it goes through, and the rest.
pub fn store_component(path: &Path) -> Option<(String, PathBuf)> {
    let rest = path.strip_prefix(STORE_DIR).ok()?;
    let mut comps = rest.components();
    let first = comps.next()?.as_os_str().to_str()?.to_string();
    Some((first, comps.as_path().to_path_buf()))
}

/// Inspect root-relative `link` without following anything.
pub fn inspect(root: &Path, link: &Path) -> Result<LinkState> {
    Inspector::default().inspect(root, link)
}

/// Inspects many links, checking each parent directory and each store
/// entry once (a switch of 10,000 links stats a few directories, not
/// 10,000 times each).
#[derive(Default)]
pub struct Inspector {
    /// Root-relative directories known to be real directories.
    dirs: HashSet<PathBuf>,
    /// Store entries: is it a build directory (true) or a pointer (false)?
    builds: HashMap<String, bool>,
    /// Names in each (root-relative) directory, read with one listing: a
    /// name not there is absent without an lstat of its own.
    listings: HashMap<PathBuf, HashSet<std::ffi::OsString>>,
}

impl Inspector {
    pub fn inspect(&mut self, root: &Path, link: &Path) -> Result<LinkState> {
        // Parents must be real directories (or absent): gport never creates
        // links through a symlinked or foreign parent.
        if let Some(parent) = link.parent() {
            let mut rel = PathBuf::new();
            for c in parent.components() {
                rel.push(c);
                if self.dirs.contains(&rel) {
                    continue;
                }
                let cur = root.join(&rel);
                match fs::symlink_metadata(&cur) {
                    Ok(m) if m.is_dir() => {
                        self.dirs.insert(rel.clone());
                    }
                    Ok(m) if m.file_type().is_symlink() => {
                        return Ok(LinkState::Foreign(format!(
                            "/{} (a symlink gport does not follow)",
                            rel.display()
                        )));
                    }
                    Ok(_) => {
                        return Ok(LinkState::Foreign(format!(
                            "/{} (not a directory)",
                            rel.display()
                        )));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Ok(LinkState::Absent);
                    }
                    Err(e) => return Err(Error::io("inspect", &cur, e)),
                }
            }
        }
        let parent = link.parent().unwrap_or(Path::new(""));
        if !self.listings.contains_key(parent) {
            let names = match fs::read_dir(root.join(parent)) {
                Ok(entries) => entries
                    .filter_map(|e| e.ok().map(|e| e.file_name()))
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
                Err(e) => return Err(Error::io("read", &root.join(parent), e)),
            };
            self.listings.insert(parent.to_path_buf(), names);
        }
        if let Some(name) = link.file_name() {
            if !self.listings[parent].contains(name) {
                return Ok(LinkState::Absent);
            }
        }
        let full = root.join(link);
        let meta = match fs::symlink_metadata(&full) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LinkState::Absent),
            Err(e) => return Err(Error::io("inspect", &full, e)),
        };
        if !meta.file_type().is_symlink() {
            let what = if meta.is_dir() {
                "a directory"
            } else {
                "a file"
            };
            return Ok(LinkState::Foreign(format!("{what} gport did not create")));
        }
        let target = fs::read_link(&full).at("read link", &full)?;
        let dir = link.parent().unwrap_or(Path::new(""));
        let Some((first, rel)) = resolve_lexically(dir, &target)
            .as_deref()
            .and_then(store_component)
        else {
            return Ok(LinkState::Foreign(format!(
                "a symlink to {} gport did not create",
                target.display()
            )));
        };
        // Pointing into the store is the proof that gport made it: nothing else
        // creates links into gales/pkg.
        if first.starts_with('.') || fs::metadata(&full).is_err() {
            return Ok(LinkState::Dangling { target });
        }
        let pinned = match self.builds.get(&first) {
            Some(b) => *b,
            None => {
                let via = root.join(STORE_DIR).join(&first);
                let b = !fs::symlink_metadata(&via)
                    .at("inspect", &via)?
                    .file_type()
                    .is_symlink();
                self.builds.insert(first.clone(), b);
                b
            }
        };
        Ok(if pinned {
            LinkState::Package {
                name: name_of_id(&first).to_string(),
                pinned: Some(first),
                rel,
                target,
            }
        } else {
            LinkState::Package {
                name: first,
                pinned: None,
                rel,
                target,
            }
        })
    }
}

/// The links a package version wants: link path -> package path.
pub fn wanted_links<'a>(
    set: &LinkSet,
    paths: impl Iterator<Item = &'a Path>,
) -> BTreeMap<PathBuf, PathBuf> {
    paths
        .filter_map(|p| set.link_path(p).map(|l| (l, p.to_path_buf())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_rules_map_paths() {
        let set = LinkSet::new(&default_rules(), &[], &["bin/luac".into()]).unwrap();
        let lp = |p: &str| set.link_path(Path::new(p));
        assert_eq!(lp("bin/lua"), Some(PathBuf::from("usr/bin/lua")));
        assert_eq!(lp("bin/luac"), None);
        assert_eq!(lp("bin/sub/x"), None);
        assert_eq!(
            lp("share/man/man1/lua.1"),
            Some(PathBuf::from("usr/share/man/man1/lua.1"))
        );
        assert_eq!(
            lp("etc/foo/foo.conf"),
            Some(PathBuf::from("etc/examples/foo/foo.conf"))
        );
        assert_eq!(lp("lib/liblua.a"), None);
        assert_eq!(lp(".gport/manifest"), None);
    }

    #[test]
    fn rules_cannot_write_live_etc() {
        assert!(LinkSet::new(&[LinkRule::new("etc/*", "etc")], &[], &[]).is_err());
        assert!(LinkSet::new(&[LinkRule::new("x/*", "etc/x")], &[], &[]).is_err());
        assert!(LinkSet::new(&[LinkRule::new("x/*", "../x")], &[], &[]).is_err());
        assert!(LinkSet::new(&[LinkRule::new("x/*", "etc/examples/x")], &[], &[]).is_ok());
    }

    #[test]
    fn targets_are_relative_through_the_pointer() {
        assert_eq!(
            link_target(Path::new("usr/bin/lua"), "lua", Path::new("bin/lua")),
            PathBuf::from("../../gales/pkg/lua/bin/lua")
        );
        assert_eq!(
            resolve_lexically(
                Path::new("usr/bin"),
                Path::new("../../gales/pkg/lua/bin/lua")
            ),
            Some(PathBuf::from("gales/pkg/lua/bin/lua"))
        );
        assert_eq!(
            resolve_lexically(Path::new("usr/bin"), Path::new("../../../etc")),
            None
        );
    }
}
