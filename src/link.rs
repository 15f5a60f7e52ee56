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

use std::collections::BTreeMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use globset::{Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::error::{Conflict, Error, IoContext, Result};
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

/// What is at a link path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    Absent,
    /// A symlink into the store through package `NAME`'s pointer; `target`
    /// is its text.
    Package {
        name: String,
        target: PathBuf,
    },
    /// Anything else: a file, a directory, a foreign symlink, or a path whose
    /// parent is not a plain directory. The string says what.
    Foreign(String),
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
    // Parents must be real directories (or absent): gport never creates links
    // through a symlinked or foreign parent.
    let mut cur = root.to_path_buf();
    if let Some(parent) = link.parent() {
        for c in parent.components() {
            cur.push(c);
            match fs::symlink_metadata(&cur) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Ok(LinkState::Foreign(format!(
                        "/{} (a symlink gport does not follow)",
                        cur.strip_prefix(root).unwrap_or(&cur).display()
                    )));
                }
                Ok(_) => {
                    return Ok(LinkState::Foreign(format!(
                        "/{} (not a directory)",
                        cur.strip_prefix(root).unwrap_or(&cur).display()
                    )));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(LinkState::Absent),
                Err(e) => return Err(Error::io("inspect", &cur, e)),
            }
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
    match resolve_lexically(dir, &target)
        .as_deref()
        .and_then(store_component)
    {
        // Pointing into the store is the proof that gport made it: nothing
        // else creates links into gales/pkg. The pointer itself may be absent
        // (an install interrupted before its flip), and the link is still ours.
        Some((name, _)) if !name.starts_with('.') => Ok(LinkState::Package { name, target }),
        _ => Ok(LinkState::Foreign(format!(
            "a symlink to {} gport did not create",
            target.display()
        ))),
    }
}

/// One link to create or replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkOp {
    pub path: PathBuf,
    pub target: PathBuf,
}

/// The link changes that activate one package version.
#[derive(Debug, Clone, Default)]
pub struct LinkPlan {
    /// Created (or retargeted) before the pointer flips.
    pub create: Vec<LinkOp>,
    /// Already correct; they switch with the pointer.
    pub keep: Vec<PathBuf>,
    /// The old version's links the new one does not have; removed after the flip.
    pub remove: Vec<PathBuf>,
}

/// Plan the links for activating package `name` whose new version has the
/// package paths `new_paths`, replacing a version with `old_paths` (empty on
/// first install). Conflicts are collected, not stopped at, so the operator
/// sees them all at once; any conflict makes the whole plan an error.
pub fn plan(
    root: &Path,
    name: &str,
    package_id: &str,
    new_links: &BTreeMap<PathBuf, PathBuf>,
    old_links: &BTreeMap<PathBuf, PathBuf>,
) -> Result<LinkPlan> {
    let mut plan = LinkPlan::default();
    let mut conflicts = Vec::new();
    for (link, rel) in new_links {
        let target = link_target(link, name, rel);
        match inspect(root, link)? {
            LinkState::Absent => plan.create.push(LinkOp {
                path: link.clone(),
                target,
            }),
            LinkState::Package {
                name: owner,
                target: current,
            } if owner == name => {
                if current == target {
                    plan.keep.push(link.clone());
                } else {
                    plan.create.push(LinkOp {
                        path: link.clone(),
                        target,
                    });
                }
            }
            LinkState::Package { name: owner, .. } => conflicts.push(Conflict {
                path: link.clone(),
                wanted_by: package_id.to_string(),
                held_by: format!("package {}", owner_id(root, &owner)),
            }),
            LinkState::Foreign(what) => conflicts.push(Conflict {
                path: link.clone(),
                wanted_by: package_id.to_string(),
                held_by: what,
            }),
        }
    }
    if !conflicts.is_empty() {
        return Err(Error::Conflicts { conflicts });
    }
    for link in old_links.keys() {
        if new_links.contains_key(link) {
            continue;
        }
        if let LinkState::Package { name: owner, .. } = inspect(root, link)? {
            if owner == name {
                plan.remove.push(link.clone());
            }
        }
    }
    Ok(plan)
}

/// `NAME-VERSION` of the active version of package `name`, or just the name.
fn owner_id(root: &Path, name: &str) -> String {
    fs::read_link(root.join(STORE_DIR).join(name))
        .ok()
        .and_then(|t| t.to_str().map(String::from))
        .unwrap_or_else(|| name.to_string())
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

/// Carry out a link plan and flip package `name`'s pointer to `id`:
/// new links first (they dangle harmlessly until the flip if the package was
/// not active), then the pointer by one rename, then the old version's
/// leftover links. Each step is durable before the next begins.
pub fn apply(root: &Path, name: &str, id: &str, plan: &LinkPlan) -> Result<()> {
    use crate::atomic::{create_dirs_nofollow, fsync_dir, replace_symlink};
    use std::collections::BTreeSet;

    let mut dirs = BTreeSet::new();
    for op in &plan.create {
        let parent = op.path.parent().unwrap_or(Path::new(""));
        create_dirs_nofollow(root, parent)?;
        replace_symlink(&op.target, &root.join(&op.path))?;
        dirs.insert(root.join(parent));
    }
    for d in &dirs {
        fsync_dir(d)?;
    }
    let store = root.join(STORE_DIR);
    replace_symlink(Path::new(id), &store.join(name))?;
    fsync_dir(&store)?;
    let mut dirs = BTreeSet::new();
    for link in &plan.remove {
        let full = root.join(link);
        fs::remove_file(&full).at("remove link", &full)?;
        dirs.insert(crate::atomic::parent(&full).to_path_buf());
    }
    for d in &dirs {
        fsync_dir(d)?;
    }
    Ok(())
}
