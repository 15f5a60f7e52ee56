//! One port: `port.toml` and the files it names, loaded and validated.
//!
//! The format is documented in docs/gports.5.md. Validation happens while
//! deserializing (newtypes with `try_from`), so every error carries the line
//! and column of the offending value.

use std::fmt;
use std::fs;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, IoContext, Location, Result};
use crate::link::LinkRule;
pub use crate::paths::check_rel_path;

/// A port or package name: `[a-z0-9][a-z0-9+_.-]*`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(try_from = "String")]
pub struct Name(String);

impl TryFrom<String> for Name {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        let ok = s.len() <= 64
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+_.-".contains(c));
        if ok {
            Ok(Name(s))
        } else {
            Err(format!(
                "invalid name '{s}': use lower-case letters, digits, '+', '_', '.' and '-', starting with a letter or digit"
            ))
        }
    }
}

impl Name {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An upstream version: no '-', '/', '_' (reserved for the revision) or spaces.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Version(String);

impl TryFrom<String> for Version {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.starts_with(|c: char| c.is_ascii_alphanumeric())
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+~".contains(c));
        if ok {
            Ok(Version(s))
        } else {
            Err(format!(
                "invalid version '{s}': use letters, digits, '.', '+' and '~' ('_' is reserved for the revision)"
            ))
        }
    }
}

impl Version {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A lower-case hex SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Sha256Hex(String);

impl TryFrom<String> for Sha256Hex {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        if s.len() == 64
            && s.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        {
            Ok(Sha256Hex(s))
        } else {
            Err(format!(
                "invalid sha256 '{s}': expected 64 lower-case hex digits"
            ))
        }
    }
}

impl Sha256Hex {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A relative path of plain components, safe to join under a directory.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct RelPath(PathBuf);

impl TryFrom<String> for RelPath {
    type Error = String;
    fn try_from(s: String) -> std::result::Result<Self, String> {
        check_rel_path(&s).map(|()| RelPath(PathBuf::from(s)))
    }
}

impl RelPath {
    pub fn as_path(&self) -> &Path {
        &self.0
    }
}

fn default_true() -> bool {
    true
}
fn default_strip() -> usize {
    1
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub urls: Vec<String>,
    #[serde(default)]
    file: Option<Spanned<String>>,
    pub sha256: Sha256Hex,
    pub size: u64,
    #[serde(default = "default_true")]
    pub extract: bool,
}

impl Source {
    /// The name of this source in the distfiles store.
    pub fn file_name(&self) -> &str {
        match &self.file {
            Some(f) => f.get_ref(),
            None => default_file_name(&self.urls[0]),
        }
    }
}

/// A source's store name when `file` is not set: the URL's last component.
pub fn default_file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or_default()
}

/// The URL schemes a source may use.
pub fn is_source_url(url: &str) -> bool {
    ["https://", "http://", "ftp://"]
        .iter()
        .any(|s| url.starts_with(s))
}

/// A distfile name must be a plain file name: it is joined to the store.
pub fn check_distfile_name(name: &str) -> std::result::Result<(), String> {
    if name.is_empty()
        || name.contains('/')
        || name.starts_with('.')
        || name.chars().any(|c| c.is_control())
    {
        Err(format!(
            "invalid distfile name '{name}': a plain file name is required"
        ))
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchRef {
    pub file: Spanned<RelPath>,
    #[serde(default = "default_strip")]
    pub strip: usize,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildSection {
    #[serde(default)]
    pub script: Option<Spanned<RelPath>>,
    #[serde(default)]
    pub srcdir: Option<RelPath>,
    /// Why two builds of this port differ, if they do (`build --check`
    /// then reports the differences but does not fail).
    #[serde(default)]
    pub unreproducible: Option<String>,
    /// SOURCE_DATE_EPOCH for the build; default: the newest mtime in the
    /// source tarballs.
    #[serde(default, rename = "source-date-epoch")]
    pub source_date_epoch: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkAdjust {
    /// Globs (relative to the prefix) that are never linked.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Link rules added to the configured ones.
    #[serde(default)]
    pub extra: Vec<LinkRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortFile {
    name: Spanned<Name>,
    version: Version,
    #[serde(default)]
    revision: u32,
    summary: String,
    homepage: String,
    license: String,
    #[serde(default)]
    depends: Vec<Spanned<Name>>,
    #[serde(default, rename = "runtime-depends")]
    runtime_depends: Vec<Spanned<Name>>,
    #[serde(rename = "source")]
    sources: Spanned<Vec<Source>>,
    #[serde(default, rename = "patch")]
    patches: Vec<PatchRef>,
    #[serde(default)]
    overlays: Vec<Spanned<RelPath>>,
    #[serde(default)]
    build: BuildSection,
    #[serde(default)]
    links: LinkAdjust,
}

/// A loaded, validated port.
#[derive(Debug, Clone)]
pub struct Port {
    /// The port's directory in the tree.
    pub dir: PathBuf,
    pub name: Name,
    pub version: Version,
    pub revision: u32,
    pub summary: String,
    pub homepage: String,
    pub license: String,
    /// Built and installed first; their prefixes are passed to the build.
    pub depends: Vec<Name>,
    /// Installed alongside and needed at run time: `remove` refuses to take
    /// one away from an active dependent.
    pub runtime_depends: Vec<Name>,
    pub sources: Vec<Source>,
    pub patches: Vec<PatchRef>,
    pub overlays: Vec<RelPath>,
    pub build: BuildSection,
    pub links: LinkAdjust,
}

impl Port {
    /// Load `dir/port.toml`. `expected_name` is the directory's name, which
    /// the `name` field must repeat (None for an installed copy, whose
    /// directory is `.gport/port`).
    pub fn load(dir: &Path, expected_name: Option<&str>) -> Result<Port> {
        let file = dir.join("port.toml");
        let text = fs::read_to_string(&file).at("read", &file)?;
        Self::parse(dir, &file, &text, expected_name, true)
    }

    /// Load without requiring that the patches, overlays and build script it
    /// names exist: for the audit, which reports missing files itself.
    pub fn load_unchecked(dir: &Path, expected_name: Option<&str>) -> Result<Port> {
        let file = dir.join("port.toml");
        let text = fs::read_to_string(&file).at("read", &file)?;
        Self::parse(dir, &file, &text, expected_name, false)
    }

    fn parse(
        dir: &Path,
        file: &Path,
        text: &str,
        expected_name: Option<&str>,
        check_files: bool,
    ) -> Result<Port> {
        let at = |span: Range<usize>, message: String| Error::Syntax {
            location: Location::of_offset(file, text, span.start),
            message,
        };
        let pf: PortFile = toml::from_str(text)
            .map_err(|e| at(e.span().unwrap_or(0..0), e.message().trim_end().to_string()))?;

        if let Some(expected) = expected_name {
            if pf.name.get_ref().as_str() != expected {
                return Err(at(
                    pf.name.span(),
                    format!(
                        "name '{}' differs from the port's directory name '{expected}'",
                        pf.name.get_ref()
                    ),
                ));
            }
        }
        if pf.sources.get_ref().is_empty() {
            return Err(at(
                pf.sources.span(),
                "at least one [[source]] is required".into(),
            ));
        }
        for src in pf.sources.get_ref() {
            if src.urls.is_empty() {
                return Err(at(
                    pf.sources.span(),
                    "a [[source]] needs at least one URL in `urls`".into(),
                ));
            }
            if let Some(bad) = src.urls.iter().find(|u| !is_source_url(u)) {
                return Err(at(
                    pf.sources.span(),
                    format!("URL '{bad}' must start with https://, http:// or ftp://"),
                ));
            }
            if let Err(message) = check_distfile_name(src.file_name()) {
                let span = src.file.as_ref().map_or(pf.sources.span(), |f| f.span());
                return Err(at(span, message));
            }
        }
        for dep in pf.depends.iter().chain(&pf.runtime_depends) {
            if dep.get_ref() == pf.name.get_ref() {
                return Err(at(dep.span(), "a port cannot depend on itself".into()));
            }
        }
        // Every file the port names must exist, reported where it is named.
        let must_exist = |rel: &Spanned<RelPath>, sub: &str| -> Result<()> {
            let path = dir.join(sub).join(rel.get_ref().as_path());
            if !check_files || path.is_file() {
                Ok(())
            } else {
                Err(at(rel.span(), format!("{} does not exist", path.display())))
            }
        };
        for p in &pf.patches {
            must_exist(&p.file, "patches")?;
        }
        for o in &pf.overlays {
            must_exist(o, "files")?;
        }
        match &pf.build.script {
            Some(s) => must_exist(s, "")?,
            None => {
                let default = dir.join("build.sh");
                if check_files && !default.is_file() {
                    return Err(Error::Invalid {
                        path: file.to_path_buf(),
                        message: format!(
                            "no build script: {} does not exist and [build] script is not set",
                            default.display()
                        ),
                    });
                }
            }
        }

        Ok(Port {
            dir: dir.to_path_buf(),
            name: pf.name.into_inner(),
            version: pf.version,
            revision: pf.revision,
            summary: pf.summary,
            homepage: pf.homepage,
            license: pf.license,
            depends: pf.depends.into_iter().map(Spanned::into_inner).collect(),
            runtime_depends: pf
                .runtime_depends
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            sources: pf.sources.into_inner(),
            patches: pf.patches,
            overlays: pf.overlays.into_iter().map(Spanned::into_inner).collect(),
            build: pf.build,
            links: pf.links,
        })
    }

    /// `VERSION`, or `VERSION_REVISION` when the revision is not 0.
    pub fn full_version(&self) -> String {
        if self.revision == 0 {
            self.version.as_str().to_string()
        } else {
            format!("{}_{}", self.version.as_str(), self.revision)
        }
    }

    /// `NAME-FULLVERSION`: the package's directory name under /gales/pkg.
    pub fn package_id(&self) -> String {
        format!("{}-{}", self.name, self.full_version())
    }

    /// The build script's path.
    pub fn script_path(&self) -> PathBuf {
        match &self.build.script {
            Some(s) => self.dir.join(s.get_ref().as_path()),
            None => self.dir.join("build.sh"),
        }
    }

    pub fn patch_path(&self, p: &PatchRef) -> PathBuf {
        self.dir.join("patches").join(p.file.get_ref().as_path())
    }

    pub fn overlay_path(&self, o: &RelPath) -> PathBuf {
        self.dir.join("files").join(o.as_path())
    }
}

/// True when `p` is a single plain component (used for store names).
pub fn is_plain_name(p: &Path) -> bool {
    let mut comps = p.components();
    matches!(comps.next(), Some(Component::Normal(_))) && comps.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Port> {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("build.sh"), "true\n").unwrap();
        Port::parse(dir.path(), Path::new("x/port.toml"), text, Some("x"), true)
    }

    const GOOD: &str = r#"
name = "x"
version = "1.0"
summary = "s"
homepage = "https://example.org/"
license = "MIT"
[[source]]
urls = ["https://example.org/x-1.0.tar.gz"]
sha256 = "164c7849653b80ae67bec4b7473b884bf5cc8d2dca05653475ec2ed27b9ebf61"
size = 10
"#;

    #[test]
    fn good_port_parses_with_defaults() {
        let p = parse(GOOD).unwrap();
        assert_eq!(p.package_id(), "x-1.0");
        assert_eq!(p.sources[0].file_name(), "x-1.0.tar.gz");
        assert!(p.sources[0].extract);
    }

    #[test]
    fn revision_is_part_of_the_package_id() {
        let p =
            parse(&GOOD.replace("version = \"1.0\"", "version = \"1.0\"\nrevision = 2")).unwrap();
        assert_eq!(p.package_id(), "x-1.0_2");
    }

    #[test]
    fn bad_sha_reports_line_and_column() {
        let text = GOOD.replace("164c7849", "XYZ");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("x/port.toml:9:10: invalid sha256"), "{err}");
    }

    #[test]
    fn unknown_key_is_an_error() {
        let err = parse(&format!("{GOOD}\nsumary = \"typo\"\n"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x/port.toml:12:1") && err.contains("sumary"),
            "{err}"
        );
    }

    #[test]
    fn name_must_match_directory() {
        let err = parse(&GOOD.replace("name = \"x\"", "name = \"y\""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("x/port.toml:2:8") && err.contains("directory name"),
            "{err}"
        );
    }
}
