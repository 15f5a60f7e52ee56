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

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::rc::Rc;

use globset::{Candidate, Glob, GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};
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
    shape: Shape,
    /// The pattern's leading directories without glob characters.
    literal: PathBuf,
    to: PathBuf,
}

/// How a rule matches below its literal directories. Nearly every rule is
/// `DIR/*` (what is directly in DIR) or `DIR/**` (everything below DIR):
/// those need no glob engine, which matters for packages of thousands of
/// files. (A test holds them to the glob engine's answers.)
enum Shape {
    Children,
    Descendants,
    Glob(GlobMatcher),
}

/// Is `rel` (a plain relative path) at or below `dir`? Compared as bytes:
/// manifest paths and rule directories are normalized.
fn under<'a>(rel: &'a [u8], dir: &[u8]) -> Option<&'a [u8]> {
    if dir.is_empty() {
        return Some(rel);
    }
    match rel.strip_prefix(dir)? {
        [] => Some(&[]),
        [b'/', rest @ ..] => Some(rest),
        _ => None,
    }
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
            // Parsed always (a bad pattern is an error either way), compiled
            // only when the engine will be asked.
            let parsed = glob(&rule.pattern)?;
            let lit = literal.to_string_lossy();
            let shape = match rule.pattern.strip_prefix(lit.as_ref()) {
                Some("/*") if !lit.is_empty() => Shape::Children,
                Some("/**") if !lit.is_empty() => Shape::Descendants,
                _ => Shape::Glob(parsed.compile_matcher()),
            };
            compiled.push(CompiledRule {
                shape,
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
        use std::os::unix::ffi::OsStrExt;
        let bytes = rel.as_os_str().as_bytes();
        if under(bytes, b".gport").is_some() {
            return None;
        }
        let mut candidate = None;
        for rule in &self.rules {
            // A rule can only match below its literal leading directories:
            // most paths of a big package (lib/, include/, share/doc/) are
            // turned away by that alone.
            let Some(rest) = under(bytes, rule.literal.as_os_str().as_bytes()) else {
                continue;
            };
            let matched = match &rule.shape {
                Shape::Children => !rest.is_empty() && !rest.contains(&b'/'),
                Shape::Descendants => !rest.is_empty(),
                Shape::Glob(m) => {
                    m.is_match_candidate(candidate.get_or_insert_with(|| Candidate::new(rel)))
                }
            };
            if !matched {
                continue;
            }
            if !self.exclude.is_empty()
                && self
                    .exclude
                    .is_match_candidate(candidate.get_or_insert_with(|| Candidate::new(rel)))
            {
                return None;
            }
            return Some(rule.to.join(std::ffi::OsStr::from_bytes(rest)));
        }
        None
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
    use std::os::unix::ffi::{OsStrExt, OsStringExt};
    // Link paths are plain relative paths (rule destinations and manifest
    // paths are checked): each '/' is one directory to climb. Built as
    // bytes in one allocation: a first activation makes thousands.
    let depth = link
        .as_os_str()
        .as_bytes()
        .iter()
        .filter(|&&b| b == b'/')
        .count();
    let rel = rel.as_os_str().as_bytes();
    let mut t = Vec::with_capacity(3 * depth + STORE_DIR.len() + name.len() + rel.len() + 2);
    for _ in 0..depth {
        t.extend_from_slice(b"../");
    }
    t.extend_from_slice(STORE_DIR.as_bytes());
    t.push(b'/');
    t.extend_from_slice(name.as_bytes());
    t.push(b'/');
    t.extend_from_slice(rel);
    PathBuf::from(std::ffi::OsString::from_vec(t))
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
    listings: HashMap<PathBuf, Rc<Names>>,
    /// The parent of the last link inspected and what it was: links come
    /// sorted, so most share their parent with the one before.
    last: Option<(PathBuf, Parent)>,
}

type Names = HashSet<std::ffi::OsString>;

/// What a link's parent directory is.
#[derive(Clone)]
enum Parent {
    /// A real directory, and the names in it.
    Dir(Rc<Names>),
    /// It, or a directory above it, does not exist: every link below is absent.
    Absent,
    /// Not usable; the state every link below it is in.
    Foreign(String),
}

impl Inspector {
    /// Check `parent` (root-relative) and each directory above it.
    fn parent(&mut self, root: &Path, parent: &Path) -> Result<Parent> {
        if let Some((p, state)) = &self.last
            && p.as_os_str() == parent.as_os_str()
        {
            return Ok(state.clone());
        }
        let state = self.check_parent(root, parent)?;
        self.last = Some((parent.to_path_buf(), state.clone()));
        Ok(state)
    }

    fn check_parent(&mut self, root: &Path, parent: &Path) -> Result<Parent> {
        // Parents must be real directories (or absent): gport never creates
        // links through a symlinked or foreign parent.
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
                    return Ok(Parent::Foreign(format!(
                        "/{} (a symlink gport does not follow)",
                        rel.display()
                    )));
                }
                Ok(_) => {
                    return Ok(Parent::Foreign(format!(
                        "/{} (not a directory)",
                        rel.display()
                    )));
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Parent::Absent),
                Err(e) => return Err(Error::io("inspect", &cur, e)),
            }
        }
        if let Some(names) = self.listings.get(parent) {
            return Ok(Parent::Dir(names.clone()));
        }
        let names: Rc<Names> = Rc::new(match fs::read_dir(root.join(parent)) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.file_name()))
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HashSet::new(),
            Err(e) => return Err(Error::io("read", &root.join(parent), e)),
        });
        self.listings.insert(parent.to_path_buf(), names.clone());
        Ok(Parent::Dir(names))
    }

    pub fn inspect(&mut self, root: &Path, link: &Path) -> Result<LinkState> {
        let parent = link.parent().unwrap_or(Path::new(""));
        match self.parent(root, parent)? {
            Parent::Dir(names) => {
                if link.file_name().is_some_and(|n| !names.contains(n)) {
                    return Ok(LinkState::Absent);
                }
            }
            Parent::Absent => return Ok(LinkState::Absent),
            Parent::Foreign(what) => return Ok(LinkState::Foreign(what)),
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

/// The links a build wants: link path (relative to the root) -> package
/// path (relative to the prefix), sorted by link path as bytes, link paths
/// unique. A sorted list rather than a tree map: built once from a
/// manifest in one sort, and read in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Links(Vec<(PathBuf, PathBuf)>);

fn bytes(p: &Path) -> &[u8] {
    use std::os::unix::ffi::OsStrExt;
    p.as_os_str().as_bytes()
}

impl Links {
    pub fn new() -> Links {
        Links::default()
    }

    /// From pairs in any order; of two pairs with one link path, the later
    /// wins.
    pub fn from_pairs(mut pairs: Vec<(PathBuf, PathBuf)>) -> Links {
        // Stable, so that equal link paths keep their order for the dedup.
        pairs.sort_by(|a, b| bytes(&a.0).cmp(bytes(&b.0)));
        pairs.dedup_by(|later, kept| {
            let same = bytes(&later.0) == bytes(&kept.0);
            if same {
                std::mem::swap(&mut later.1, &mut kept.1);
            }
            same
        });
        Links(pairs)
    }

    /// The package path linked at `link`.
    pub fn get(&self, link: &Path) -> Option<&PathBuf> {
        self.0
            .binary_search_by(|(l, _)| bytes(l).cmp(bytes(link)))
            .ok()
            .map(|i| &self.0[i].1)
    }

    pub fn contains_key(&self, link: &Path) -> bool {
        self.get(link).is_some()
    }

    pub fn keys(&self) -> impl Iterator<Item = &PathBuf> {
        self.0.iter().map(|(l, _)| l)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&PathBuf, &PathBuf)> {
        self.0.iter().map(|(l, r)| (l, r))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a> IntoIterator for &'a Links {
    type Item = (&'a PathBuf, &'a PathBuf);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (PathBuf, PathBuf)>,
        fn(&'a (PathBuf, PathBuf)) -> (&'a PathBuf, &'a PathBuf),
    >;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(l, r)| (l, r))
    }
}

/// The links a package version wants.
pub fn wanted_links<'a>(set: &LinkSet, paths: impl Iterator<Item = &'a Path>) -> Links {
    Links::from_pairs(
        paths
            .filter_map(|p| set.link_path(p).map(|l| (l, p.to_path_buf())))
            .collect(),
    )
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
    fn rule_shapes_agree_with_the_glob_engine() {
        let patterns = [
            "bin/*",
            "share/man/**",
            "etc/**",
            "lib/*.a",
            "{bin,sbin}/*",
            "x/y/*",
        ];
        let paths = [
            "bin",
            "bin/lua",
            "bin/.hidden",
            "bin/sub/x",
            "binx/y",
            "sbin/init",
            "share/man",
            "share/man/man1/lua.1",
            "share/man/x",
            "share/manx/y",
            "etc",
            "etc/a",
            "etc/a/b/c",
            "lib/liblua.a",
            "lib/x/y.a",
            "x/y/z",
            "x/y",
            "x/y/z/w",
            ".gport/manifest",
        ];
        for pattern in patterns {
            let set = LinkSet::new(&[LinkRule::new(pattern, "out")], &[], &[]).unwrap();
            let engine = glob(pattern).unwrap().compile_matcher();
            for p in paths {
                let p = Path::new(p);
                assert_eq!(
                    set.link_path(p).is_some(),
                    engine.is_match(p) && !p.starts_with(".gport"),
                    "{pattern} on {}",
                    p.display()
                );
            }
        }
        let set = LinkSet::new(&default_rules(), &[], &[]).unwrap();
        assert!(matches!(set.rules[0].shape, Shape::Children));
        assert!(matches!(set.rules[2].shape, Shape::Descendants));
    }

    #[test]
    fn links_are_sorted_unique_and_later_wins() {
        let p = |s: &str| PathBuf::from(s);
        let links = Links::from_pairs(vec![
            (p("usr/bin/b"), p("bin/b")),
            (p("usr/bin/a"), p("bin/a")),
            (p("usr/bin/b"), p("sbin/b")),
            (p("usr/bin-x"), p("x")),
        ]);
        assert_eq!(
            links
                .keys()
                .map(|k| k.to_str().unwrap())
                .collect::<Vec<_>>(),
            ["usr/bin-x", "usr/bin/a", "usr/bin/b"]
        );
        assert_eq!(links.get(Path::new("usr/bin/b")), Some(&p("sbin/b")));
        assert!(!links.contains_key(Path::new("usr/bin/c")));
        assert_eq!(links.len(), 3);
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
