//! Port skeletons for `gport new`: which build system a source uses, and the
//! port.toml and build.sh to start from.
//!
//! The build scripts aim at the system's one configuration: static binaries
//! against musl, installed into `$DESTDIR$PREFIX` (gports(5) lists the
//! environment they get). Placeholders are written as `TODO`, which
//! `gport lint` reports as warnings until a porter fills them in.

use std::fmt::{self, Write};
use std::path::Path;

/// A build system, recognised by the file that drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuildSystem {
    Autotools,
    Cmake,
    Meson,
    Make,
    Unknown,
}

impl fmt::Display for BuildSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BuildSystem::Autotools => "autotools (configure)",
            BuildSystem::Cmake => "cmake (CMakeLists.txt)",
            BuildSystem::Meson => "meson (meson.build)",
            BuildSystem::Make => "make (Makefile)",
            BuildSystem::Unknown => "unknown",
        })
    }
}

/// The first of configure, CMakeLists.txt, meson.build, Makefile at the top
/// of `srcdir`. A generated configure script wins: such projects often ship
/// a Makefile or CMakeLists.txt as well, and configure is what their
/// release is meant to be built with.
pub fn detect(srcdir: &Path) -> BuildSystem {
    let has = |f: &str| srcdir.join(f).is_file();
    if has("configure") {
        BuildSystem::Autotools
    } else if has("CMakeLists.txt") {
        BuildSystem::Cmake
    } else if has("meson.build") {
        BuildSystem::Meson
    } else if has("Makefile") || has("makefile") || has("GNUmakefile") {
        BuildSystem::Make
    } else {
        BuildSystem::Unknown
    }
}

/// What goes into a new port.toml.
pub struct Fields<'a> {
    pub name: &'a str,
    /// None: written as "0" with a TODO naming the file it was not found in.
    pub version: Option<&'a str>,
    pub url: &'a str,
    /// The file name the version was looked for in.
    pub url_file: &'a str,
    pub homepage: &'a str,
    /// Set when the store name is not the URL's last component.
    pub file: Option<&'a str>,
    pub sha256: &'a str,
    pub size: u64,
}

/// A TOML string literal (quoted and escaped).
fn q(s: &str) -> String {
    toml_edit::Value::from(s).to_string()
}

pub fn port_toml(f: &Fields) -> String {
    let mut t = String::new();
    // Writing to a String cannot fail.
    let _ = writeln!(
        t,
        "# Written by `gport new`; `gport lint {}` lists what is left to do.",
        f.name
    );
    let _ = writeln!(t, "name     = {}", q(f.name));
    let _ = match f.version {
        Some(v) => writeln!(t, "version  = {}", q(v)),
        None => writeln!(
            t,
            "version  = \"0\"    # TODO: the upstream version (not found in {})",
            f.url_file
        ),
    };
    t.push_str("summary  = \"TODO: one line\"\n");
    let _ = writeln!(
        t,
        "homepage = {}    # guessed from the download URL: check it",
        q(f.homepage)
    );
    t.push_str(
        "license  = \"TODO\"    # an SPDX expression, e.g. \"MIT\" or \"GPL-2.0-or-later\"\n",
    );
    t.push_str("\n[[source]]\n");
    let _ = writeln!(t, "urls   = [{}]", q(f.url));
    if let Some(file) = f.file {
        let _ = writeln!(
            t,
            "file   = {}    # the URL's own name would be ambiguous in the store",
            q(file)
        );
    }
    let _ = writeln!(t, "sha256 = {}", q(f.sha256));
    let _ = writeln!(t, "size   = {}", f.size);
    t
}

pub fn build_sh(system: BuildSystem) -> &'static str {
    match system {
        BuildSystem::Autotools => AUTOTOOLS,
        BuildSystem::Cmake => CMAKE,
        BuildSystem::Meson => MESON,
        BuildSystem::Make => MAKE,
        BuildSystem::Unknown => UNKNOWN,
    }
}

const AUTOTOOLS: &str = r#"# Autotools (found ./configure). Written by `gport new`: see
# `./configure --help` for features to enable or disable.
# Static only: every program on the system links its libraries statically
# against musl. CC, CFLAGS and LDFLAGS come from the environment.
./configure --prefix="$PREFIX" --disable-shared --enable-static
make -j"$JOBS"
make DESTDIR="$DESTDIR" install
"#;

const CMAKE: &str = r#"# CMake (found CMakeLists.txt); needs cmake on the build host. Written by
# `gport new`: see CMakeLists.txt for options to set with -D.
# Static only (BUILD_SHARED_LIBS=OFF): every program on the system links its
# libraries statically against musl. CC, CFLAGS and LDFLAGS come from the
# environment; lib, not lib64, whatever the build host does.
cmake -S . -B build \
	-DCMAKE_INSTALL_PREFIX="$PREFIX" \
	-DCMAKE_INSTALL_LIBDIR=lib \
	-DCMAKE_BUILD_TYPE=MinSizeRel \
	-DBUILD_SHARED_LIBS=OFF
cmake --build build -j "$JOBS"
DESTDIR="$DESTDIR" cmake --install build
"#;

const MESON: &str = r#"# Meson (found meson.build); needs meson and ninja on the build host.
# Written by `gport new`: see meson_options.txt for options to set with -D.
# Static only: every program on the system links its libraries statically
# against musl. CC, CFLAGS and LDFLAGS come from the environment.
meson setup build --prefix="$PREFIX" --libdir=lib \
	--buildtype=minsize --default-library=static --prefer-static
meson compile -C build -j "$JOBS"
DESTDIR="$DESTDIR" meson install -C build --no-rebuild
"#;

const MAKE: &str = r#"# A plain Makefile. Written by `gport new`: check the variable names it uses
# for the compiler, the flags and the install location (PREFIX or prefix,
# DESTDIR) and adjust both lines. LDFLAGS carries -static.
make -j"$JOBS" CC="$CC" CFLAGS="$CFLAGS" LDFLAGS="$LDFLAGS"
make DESTDIR="$DESTDIR" PREFIX="$PREFIX" install
"#;

const UNKNOWN: &str = r#"# Written by `gport new`, which found no configure, CMakeLists.txt,
# meson.build or Makefile at the top of the source.
echo "TODO: write the build of $NAME in $PORTDIR/build.sh (install into \$DESTDIR\$PREFIX)" >&2
exit 1
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_system_by_marker_file() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(detect(d.path()), BuildSystem::Unknown);
        std::fs::write(d.path().join("Makefile"), "").unwrap();
        assert_eq!(detect(d.path()), BuildSystem::Make);
        std::fs::write(d.path().join("meson.build"), "").unwrap();
        assert_eq!(detect(d.path()), BuildSystem::Meson);
        std::fs::write(d.path().join("configure"), "").unwrap();
        assert_eq!(detect(d.path()), BuildSystem::Autotools);
    }

    #[test]
    fn port_toml_quotes_and_marks_todos() {
        let text = port_toml(&Fields {
            name: "foo",
            version: None,
            url: "https://example.org/a\"b/foo.tar.gz",
            url_file: "foo.tar.gz",
            homepage: "https://example.org/",
            file: None,
            sha256: "ab",
            size: 3,
        });
        let doc: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(doc["version"].as_str(), Some("0"));
        assert_eq!(
            doc["source"][0]["urls"][0].as_str(),
            Some("https://example.org/a\"b/foo.tar.gz")
        );
        assert!(text.contains("# TODO: the upstream version (not found in foo.tar.gz)"));
    }

    #[test]
    fn every_template_parses_as_sh() {
        for s in [
            BuildSystem::Autotools,
            BuildSystem::Cmake,
            BuildSystem::Meson,
            BuildSystem::Make,
            BuildSystem::Unknown,
        ] {
            let out = std::process::Command::new("/bin/sh")
                .args(["-n", "-c", build_sh(s)])
                .output()
                .unwrap();
            assert!(out.status.success(), "{s}: {out:?}");
        }
    }
}
