//! The ports tree: `base/` and `gports/` read together.
//!
//! Ports are indexed by directory name and loaded on demand, so a broken port
//! elsewhere in the tree never stops the operator installing a good one; the
//! porter's `lint` and `list --available` load them all.

use std::collections::{BTreeMap, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::port::{Name, Port};

/// The category directories of a tree, in the order they are listed.
pub const CATEGORIES: [&str; 2] = ["base", "gports"];

pub struct Tree {
    root: PathBuf,
    /// Port name -> its directory.
    index: BTreeMap<String, PathBuf>,
}

impl Tree {
    pub fn open(root: &Path) -> Result<Tree> {
        let mut index: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut found_category = false;
        for cat in CATEGORIES {
            let dir = root.join(cat);
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("read the ports directory", &dir, e)),
            };
            found_category = true;
            for entry in entries {
                let entry = entry.at("read the ports directory", &dir)?;
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                // Hidden directories are never ports: `gport new` assembles a
                // port in `.NAME.new-*` before renaming it into place.
                if name.starts_with('.') || !path.join("port.toml").is_file() {
                    continue;
                }
                if let Some(first) = index.get(&name) {
                    return Err(Error::DuplicatePort {
                        name,
                        first: first.clone(),
                        second: path,
                    });
                }
                index.insert(name, path);
            }
        }
        if !found_category {
            return Err(Error::Invalid {
                path: root.to_path_buf(),
                message:
                    "not a ports tree: it has neither base/ nor gports/ (set --tree or GPORT_TREE)"
                        .into(),
            });
        }
        Ok(Tree {
            root: root.to_path_buf(),
            index,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.index.keys().map(String::as_str)
    }

    /// The category (`base` or `gports`) a port is in.
    pub fn category(&self, name: &str) -> Option<&str> {
        let dir = self.index.get(name)?;
        dir.parent()?.file_name()?.to_str()
    }

    pub fn load(&self, name: &str) -> Result<Port> {
        Port::load(self.dir(name)?, Some(name))
    }

    /// A port's directory, without loading it (for tools that edit a port
    /// that does not load yet).
    pub fn dir(&self, name: &str) -> Result<&Path> {
        match self.index.get(name) {
            Some(dir) => Ok(dir),
            None => Err(Error::UnknownPort {
                name: name.to_string(),
                suggestion: self.suggest(name),
            }),
        }
    }

    /// Like [`Tree::load`], not requiring the files the port names to exist.
    pub fn load_unchecked(&self, name: &str) -> Result<Port> {
        Port::load_unchecked(self.dir_of(name)?, Some(name))
    }

    /// A port's directory, or the unknown-port error.
    pub fn dir_of(&self, name: &str) -> Result<&Path> {
        self.index
            .get(name)
            .map(PathBuf::as_path)
            .ok_or_else(|| Error::UnknownPort {
                name: name.to_string(),
                suggestion: self.suggest(name),
            })
    }

    pub fn contains(&self, name: &str) -> bool {
        self.index.contains_key(name)
    }

    /// The closest port name, for "did you mean".
    pub fn suggest(&self, name: &str) -> Option<String> {
        let limit = (name.len() / 3).max(1);
        self.names()
            .map(|n| (edit_distance(name, n), n))
            .filter(|(d, _)| *d <= limit)
            .min()
            .map(|(_, n)| n.to_string())
    }

    /// The ports needed to install `names`, dependencies first (a topological
    /// order), each loaded once. A cycle is an error naming it.
    pub fn resolve(&self, names: &[String]) -> Result<Vec<Port>> {
        #[derive(PartialEq)]
        enum Mark {
            Visiting,
            Done,
        }
        struct Walk<'a> {
            tree: &'a Tree,
            marks: HashMap<String, Mark>,
            stack: Vec<String>,
            order: Vec<Port>,
        }
        impl Walk<'_> {
            fn visit(&mut self, name: &str, from: Option<&str>) -> Result<()> {
                match self.marks.get(name) {
                    Some(Mark::Done) => return Ok(()),
                    Some(Mark::Visiting) => {
                        let start = self.stack.iter().position(|n| n == name).unwrap_or(0);
                        let mut cycle = self.stack[start..].to_vec();
                        cycle.push(name.to_string());
                        return Err(Error::DependencyCycle { cycle });
                    }
                    None => {}
                }
                let port = match (self.tree.load(name), from) {
                    (Err(Error::UnknownPort { .. }), Some(from)) => {
                        return Err(Error::MissingDependency {
                            port: from.into(),
                            dependency: name.into(),
                        });
                    }
                    (r, _) => r?,
                };
                self.marks.insert(name.to_string(), Mark::Visiting);
                self.stack.push(name.to_string());
                for dep in port.depends.iter().chain(&port.runtime_depends) {
                    self.visit(dep.as_str(), Some(name))?;
                }
                self.stack.pop();
                self.marks.insert(name.to_string(), Mark::Done);
                self.order.push(port);
                Ok(())
            }
        }
        let mut walk = Walk {
            tree: self,
            marks: HashMap::new(),
            stack: Vec::new(),
            order: Vec::new(),
        };
        for name in names {
            walk.visit(name, None)?;
        }
        Ok(walk.order)
    }
}

/// Dependencies of a loaded port, as plain names.
pub fn dep_names(port: &Port) -> Vec<&str> {
    port.depends.iter().map(Name::as_str).collect()
}

/// Edit distance counting a swap of neighbours as one edit (optimal string
/// alignment), so `lau` is one step from `lua`. Port names are short; the
/// quadratic table is fine.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for j in 0..=b.len() {
        d[0][j] = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn port(tree: &Path, cat: &str, name: &str, deps: &[&str]) {
        let dir = tree.join(cat).join(name);
        fs::create_dir_all(&dir).unwrap();
        let deps: Vec<String> = deps.iter().map(|d| format!("\"{d}\"")).collect();
        fs::write(
            dir.join("port.toml"),
            format!(
                "name = \"{name}\"\nversion = \"1\"\nsummary = \"s\"\nhomepage = \"h\"\nlicense = \"MIT\"\ndepends = [{}]\n[[source]]\nurls = [\"https://e/{name}.tar\"]\nsha256 = \"{}\"\nsize = 1\n",
                deps.join(", "),
                "0".repeat(64)
            ),
        )
        .unwrap();
        fs::write(dir.join("build.sh"), "true\n").unwrap();
    }

    #[test]
    fn resolve_orders_dependencies_first() {
        let t = tempfile::tempdir().unwrap();
        port(t.path(), "gports", "app", &["lib", "zlib"]);
        port(t.path(), "gports", "lib", &["zlib"]);
        port(t.path(), "base", "zlib", &[]);
        let tree = Tree::open(t.path()).unwrap();
        let order: Vec<String> = tree
            .resolve(&["app".into()])
            .unwrap()
            .iter()
            .map(|p| p.name.to_string())
            .collect();
        assert_eq!(order, ["zlib", "lib", "app"]);
        assert_eq!(tree.category("zlib"), Some("base"));
    }

    #[test]
    fn cycle_is_named() {
        let t = tempfile::tempdir().unwrap();
        port(t.path(), "gports", "a", &["b"]);
        port(t.path(), "gports", "b", &["c"]);
        port(t.path(), "gports", "c", &["a"]);
        let tree = Tree::open(t.path()).unwrap();
        let err = tree.resolve(&["a".into()]).unwrap_err().to_string();
        assert_eq!(err, "dependency cycle: a -> b -> c -> a");
    }

    #[test]
    fn unknown_port_suggests_a_near_name() {
        let t = tempfile::tempdir().unwrap();
        port(t.path(), "gports", "bzip2", &[]);
        let tree = Tree::open(t.path()).unwrap();
        match tree.load("bzip") {
            Err(Error::UnknownPort { suggestion, .. }) => {
                assert_eq!(suggestion.as_deref(), Some("bzip2"))
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(edit_distance("lau", "lua"), 1);
        assert_eq!(edit_distance("bzip", "bzip2"), 1);
        assert_eq!(edit_distance("xz", "lz4"), 2);
    }

    #[test]
    fn duplicate_across_categories_is_an_error() {
        let t = tempfile::tempdir().unwrap();
        port(t.path(), "gports", "mksh", &[]);
        port(t.path(), "base", "mksh", &[]);
        assert!(matches!(
            Tree::open(t.path()),
            Err(Error::DuplicatePort { .. })
        ));
    }
}
