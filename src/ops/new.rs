//! `gport new NAME URL`: a port skeleton from a source tarball.
//!
//! Downloads the tarball into the store, records its checksum, guesses the
//! version from the file name and the build system from the unpacked tree,
//! and writes `gports/NAME/{port.toml,build.sh}`. What cannot be guessed
//! (summary, license, sometimes the version) is written as a `TODO` that
//! `gport lint` reports as a warning: the skeleton builds as soon as its
//! script is right, and lint lists what is left to fill in.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use nix::fcntl::{AT_FDCWD, RenameFlags, renameat2};

use crate::atomic::{fsync_dir, write_file};
use crate::build::single_top_dir;
use crate::config::Settings;
use crate::error::{Error, IoContext, Result};
use crate::fetch::Fetcher;
use crate::hash::hash_file;
use crate::port::{Name, Version, check_distfile_name, default_file_name, is_source_url};
use crate::skeleton::{self, BuildSystem};
use crate::tree::{CATEGORIES, Tree};
use crate::ui;

/// What `new` did, or with `-n` would do.
#[derive(Debug)]
pub struct NewPort {
    /// The store name of the tarball.
    pub file: String,
    /// Guessed from the file name; None when it could not be.
    pub version: Option<String>,
    /// None with `-n`: it is only known once the tarball is unpacked.
    pub system: Option<BuildSystem>,
    /// The files written (or to be written).
    pub written: Vec<PathBuf>,
    /// Whether the tarball was (or would be) taken from the store rather
    /// than downloaded.
    pub from_store: bool,
}

pub fn new_port(settings: &Settings, name: &str, url: &str) -> Result<NewPort> {
    let usage = |message: String| Error::Usage { message };
    Name::try_from(name.to_string()).map_err(usage)?;
    if !is_source_url(url) {
        return Err(usage(format!(
            "URL '{url}' must start with https://, http:// or ftp://"
        )));
    }
    let tree = Tree::open(&settings.tree)?;
    for cat in CATEGORIES {
        let path = tree.root().join(cat).join(name);
        if fs::symlink_metadata(&path).is_ok() {
            return Err(Error::PortExists {
                name: name.into(),
                path,
            });
        }
    }
    let url_file = url_file_name(url);
    check_distfile_name(url_file).map_err(|m| {
        usage(format!(
            "cannot take a file name from '{url}': {m}; give the URL of the tarball itself"
        ))
    })?;
    let (version, ext) = guess_version(name, url_file);
    // A bare tag archive (`v1.2.tar.gz`) would be ambiguous in the store.
    let file = match (&version, ext) {
        (Some(v), Some(ext)) if !url_file.starts_with(&format!("{name}-")) => {
            format!("{name}-{v}{ext}")
        }
        _ => url_file.to_string(),
    };
    let gports = tree.root().join("gports");
    let dir = gports.join(name);
    let written = vec![dir.join("port.toml"), dir.join("build.sh")];
    let store_copy = settings.distfiles.join(&file);
    let from_store = store_copy.is_file();
    if settings.dry_run {
        return Ok(NewPort {
            file,
            version,
            system: None,
            written,
            from_store,
        });
    }

    let (tarball, sha256, size) = if from_store {
        ui::status(settings, &format!("using {file} from the store"));
        let (sha, size) = hash_file(&store_copy)?;
        (store_copy, sha, size)
    } else {
        Fetcher::new(settings).download_unverified(&file, &[url.to_string()])?
    };
    let system = guess_build_system(settings, &tarball)?;
    ui::status(settings, &format!("build system: {system}"));

    let port_toml = skeleton::port_toml(&skeleton::Fields {
        name,
        version: version.as_deref(),
        url_file,
        homepage: &homepage(url),
        url,
        file: (file != default_file_name(url)).then_some(file.as_str()),
        sha256: &sha256,
        size,
    });
    let build_sh = skeleton::build_sh(system);

    // Assembled in a hidden directory (the tree skips those) and renamed
    // into place: a port appears whole or not at all.
    fs::create_dir_all(&gports).at("create", &gports)?;
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.new-"))
        .tempdir_in(&gports)
        .at("create a temporary directory in", &gports)?;
    fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755))
        .at("set mode of", tmp.path())?;
    write_file(&tmp.path().join("port.toml"), port_toml.as_bytes(), 0o644)?;
    write_file(&tmp.path().join("build.sh"), build_sh.as_bytes(), 0o644)?;
    match renameat2(
        AT_FDCWD,
        tmp.path(),
        AT_FDCWD,
        &dir,
        RenameFlags::RENAME_NOREPLACE,
    ) {
        Ok(()) => {
            let _ = tmp.keep();
        }
        Err(nix::errno::Errno::EEXIST) => {
            return Err(Error::PortExists {
                name: name.into(),
                path: dir,
            });
        }
        Err(e) => return Err(Error::io("rename into place", &dir, e.into())),
    }
    fsync_dir(&gports)?;
    Ok(NewPort {
        file,
        version,
        system: Some(system),
        written,
        from_store,
    })
}

/// The URL's last path component, without a query or fragment.
fn url_file_name(url: &str) -> &str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    default_file_name(path)
}

/// The archive suffixes gport unpacks, longest first.
const ARCHIVE_SUFFIXES: [&str; 9] = [
    ".tar.gz", ".tar.xz", ".tar.bz2", ".tgz", ".txz", ".tbz2", ".tbz", ".tar", ".gz",
];

/// The version in `NAME-1.2.3.tar.gz` (also `libNAME-1.2.3…`, `v1.2.3…`,
/// `1.2.3…`), and the archive suffix. None where it is not a valid version.
pub fn guess_version(name: &str, file: &str) -> (Option<String>, Option<&'static str>) {
    let lower = file.to_ascii_lowercase();
    let ext = ARCHIVE_SUFFIXES
        .iter()
        .copied()
        .find(|s| lower.len() > s.len() && lower.ends_with(s));
    let stem = &file[..file.len() - ext.map_or(0, str::len)];
    // Candidates in order of trust: after `NAME-`, after any `-` followed
    // by a digit, the whole stem; a leading `v` (a tag) is dropped.
    let prefix = format!("{name}-");
    let after_name = stem
        .get(..prefix.len())
        .filter(|p| p.eq_ignore_ascii_case(&prefix))
        .map(|_| &stem[prefix.len()..]);
    let after_dash = stem.match_indices('-').map(|(i, _)| &stem[i + 1..]);
    let version = after_name
        .into_iter()
        .chain(after_dash)
        .chain([stem])
        .map(|v| v.strip_prefix(['v', 'V']).unwrap_or(v))
        .filter(|v| v.starts_with(|c: char| c.is_ascii_digit()))
        .find_map(|v| Version::try_from(v.to_string()).ok())
        .map(|v| v.as_str().to_string());
    (version, ext)
}

/// `scheme://host/` of the URL (https for an ftp URL: a homepage is a web
/// page), without any user information.
pub fn homepage(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let scheme = if scheme == "ftp" { "https" } else { scheme };
    format!("{scheme}://{host}/")
}

/// Unpack into a private directory in the work area (the build's
/// filesystem, not a small /tmp) and look at the top of the source tree.
fn guess_build_system(settings: &Settings, tarball: &Path) -> Result<BuildSystem> {
    let work = &settings.workdir;
    fs::create_dir_all(work).at("create", work)?;
    let tmp = tempfile::Builder::new()
        .prefix(".new-")
        .tempdir_in(work)
        .at("create a temporary directory in", work)?;
    crate::extract::extract(tarball, tmp.path())?;
    let top = single_top_dir(tmp.path())?;
    Ok(skeleton::detect(&top))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_from_file_names() {
        let g = |n, f| guess_version(n, f).0;
        assert_eq!(g("foo", "foo-1.2.3.tar.gz").as_deref(), Some("1.2.3"));
        assert_eq!(g("xz", "xz-5.4.1.tar.xz").as_deref(), Some("5.4.1"));
        assert_eq!(g("lz4", "v1.9.4.tar.gz").as_deref(), Some("1.9.4"));
        assert_eq!(g("expat", "libexpat-2.5.0.tgz").as_deref(), Some("2.5.0"));
        assert_eq!(
            g("byacc", "byacc-20221106.tgz").as_deref(),
            Some("20221106")
        );
        assert_eq!(g("foo-bar", "foo-bar-0.9.tar.bz2").as_deref(), Some("0.9"));
        assert_eq!(g("expat", "R_2_5_0.tar.gz"), None);
        assert_eq!(g("foo", "foo.tar.gz"), None);
        assert_eq!(
            g("x264", "x264-snapshot-20191217.tar.bz2").as_deref(),
            Some("20191217")
        );
        assert_eq!(guess_version("foo", "v2.0.tar.gz").1, Some(".tar.gz"));
    }

    #[test]
    fn homepage_is_scheme_and_host() {
        assert_eq!(
            homepage("https://u:p@example.org:8080/a/b.tar.gz?x"),
            "https://example.org:8080/"
        );
        assert_eq!(
            homepage("ftp://ftp.gnu.org/gnu/x.tgz"),
            "https://ftp.gnu.org/"
        );
        assert_eq!(url_file_name("https://h/d/x-1.tgz?download"), "x-1.tgz");
    }
}
