//! `gport etc-diff [NAME]`: how the live configuration differs from what
//! packages ship, and what changed in a package's examples since its
//! previous build. Read-only: gport never writes /etc outside
//! /etc/examples.

use std::fs;
use std::path::{Path, PathBuf};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::journal;
use crate::manifest::Kind;
use crate::store::Store;

/// One configuration file a package ships.
pub struct EtcFile {
    pub package: String,
    /// Path under etc/, e.g. `svc/svc.conf`.
    pub rel: PathBuf,
    /// Live file vs shipped example: None if equal or no live file.
    pub live_diff: Option<String>,
    pub live_exists: bool,
    /// Shipped example of the previously active build vs the current one.
    pub example_diff: Option<(String, String)>,
}

pub fn etc_diff(settings: &Settings, name: Option<&str>) -> Result<Vec<EtcFile>> {
    let store = Store::new(&settings.root);
    let mut out = Vec::new();
    let installed = store.installed()?;
    if let Some(n) = name {
        if !installed
            .iter()
            .any(|i| i.active && i.port.name.as_str() == n)
        {
            return Err(Error::NotInstalled {
                name: n.to_string(),
            });
        }
    }
    let history = journal::read(&settings.root)?;
    for pkg in installed
        .iter()
        .filter(|i| i.active && name.is_none_or(|n| i.port.name.as_str() == n))
    {
        let pname = pkg.port.name.as_str();
        // The build active before this one, as the journal remembers it.
        let previous = history
            .iter()
            .rev()
            .flat_map(|t| t.switches.iter().rev())
            .find(|s| s.name == pname && s.to.as_deref() == Some(pkg.id.as_str()))
            .and_then(|s| s.from.clone())
            .filter(|p| store.is_installed(p));
        for e in store.manifest(&pkg.id)?.entries {
            let Ok(rel) = e.path.strip_prefix("etc") else {
                continue;
            };
            if matches!(e.kind, Kind::Dir) || rel.as_os_str().is_empty() {
                continue;
            }
            let example = store.package_dir(&pkg.id).join(&e.path);
            let live = settings.root.join("etc").join(rel);
            let shipped = read_text(&example);
            let live_text = read_text(&live);
            let live_diff = live_text
                .as_ref()
                .filter(|l| **l != shipped.clone().unwrap_or_default())
                .map(|l| {
                    unified(
                        &format!("/etc/examples/{}", rel.display()),
                        shipped.as_deref().unwrap_or(""),
                        &format!("/etc/{}", rel.display()),
                        l,
                    )
                });
            let example_diff = previous.as_ref().and_then(|prev| {
                let old = read_text(&store.package_dir(prev).join(&e.path)).unwrap_or_default();
                let new = shipped.clone().unwrap_or_default();
                (old != new).then(|| {
                    (
                        prev.clone(),
                        unified(
                            &format!("{prev}/{}", e.path.display()),
                            &old,
                            &format!("{}/{}", pkg.id, e.path.display()),
                            &new,
                        ),
                    )
                })
            });
            out.push(EtcFile {
                package: pkg.id.clone(),
                rel: rel.to_path_buf(),
                live_exists: live_text.is_some(),
                live_diff,
                example_diff,
            });
        }
    }
    Ok(out)
}

fn read_text(p: &Path) -> Option<String> {
    fs::read(p)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn unified(a_name: &str, a: &str, b_name: &str, b: &str) -> String {
    let mut o = diffy::DiffOptions::new();
    o.set_original_filename(a_name.to_string())
        .set_modified_filename(b_name.to_string());
    o.create_patch(a, b).to_string()
}
