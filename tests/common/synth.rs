//! Small synthetic ports for tests: tarballs written by the test (hostile
//! ones included), plain-sh build scripts, a private tree and store.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use tar::{EntryType, Header};

use super::{Ctx, sha256_hex, snapshot};

/// One tar entry, with raw names so hostile paths can be written.
pub enum E<'a> {
    File(&'a str, &'a [u8], u32),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    CharDev(&'a str),
}

pub fn tarball_gz(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let (name, kind, link, data, mode): (&str, EntryType, &str, &[u8], u32) = match *e {
            E::File(n, d, m) => (n, EntryType::Regular, "", d, m),
            E::Dir(n) => (n, EntryType::Directory, "", b"", 0o755),
            E::Symlink(n, t) => (n, EntryType::Symlink, t, b"", 0o777),
            E::Hardlink(n, t) => (n, EntryType::Link, t, b"", 0o644),
            E::CharDev(n) => (n, EntryType::Char, "", b"", 0o644),
        };
        let mut h = Header::new_ustar();
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_600_000_000);
        h.set_cksum();
        b.append(&h, data).unwrap();
    }
    let tar = b.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    gz.finish().unwrap()
}

pub const BUILD_HELLO: &str = r#"mkdir -p "$DESTDIR$PREFIX/bin"
cp hello.sh "$DESTDIR$PREFIX/bin/$NAME"
chmod 755 "$DESTDIR$PREFIX/bin/$NAME"
"#;

/// A synthetic port in `ctx.tree/gports/NAME`, its source in ctx's store.
pub struct PortSpec<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub entries: Vec<E<'a>>,
    pub build: &'a str,
    pub depends: &'a [&'a str],
    pub patch: Option<&'a str>,
}

impl<'a> PortSpec<'a> {
    pub fn hello(name: &'a str) -> Self {
        PortSpec {
            name,
            version: "1.0",
            entries: vec![
                E::Dir("src/"),
                E::File("src/hello.sh", b"#!/bin/sh\necho hello\n", 0o644),
            ],
            build: BUILD_HELLO,
            depends: &[],
            patch: None,
        }
    }
}

pub fn write_port(ctx: &Ctx, spec: &PortSpec) -> PathBuf {
    let tarball = tarball_gz(&spec.entries);
    let file = format!("{}-{}.tar.gz", spec.name, spec.version);
    fs::write(ctx.distfiles.join(&file), &tarball).unwrap();
    let dir = ctx.tree.join("gports").join(spec.name);
    fs::create_dir_all(dir.join("patches")).unwrap();
    let deps: Vec<String> = spec.depends.iter().map(|d| format!("\"{d}\"")).collect();
    let mut toml = format!(
        "name = \"{}\"\nversion = \"{}\"\nsummary = \"test port\"\nhomepage = \"https://example.org/\"\nlicense = \"MIT\"\ndepends = [{}]\n\n[[source]]\nurls = [\"http://127.0.0.1:9/{file}\"]\nsha256 = \"{}\"\nsize = {}\n\n[build]\nsrcdir = \"src\"\n",
        spec.name,
        spec.version,
        deps.join(", "),
        sha256_hex(&tarball),
        tarball.len()
    );
    if let Some(p) = spec.patch {
        fs::write(dir.join("patches/fix.patch"), p).unwrap();
        toml.push_str("\n[[patch]]\nfile = \"fix.patch\"\n");
    }
    fs::write(dir.join("port.toml"), toml).unwrap();
    fs::write(dir.join("build.sh"), spec.build).unwrap();
    dir
}

/// A context with its own tree, and a root that already holds one
/// installed package (so the before-state is a lived-in root).
pub fn lived_in() -> Ctx {
    let ctx = Ctx::with_own_tree();
    write_port(&ctx, &PortSpec::hello("hello"));
    ctx.ok(&["install", "hello"]);
    assert_eq!(
        String::from_utf8(ctx.exec("hello", &[]).stdout).unwrap(),
        "hello\n"
    );
    ctx
}

/// Run `args`, expect failure with every `needles` in stderr, and the root
/// unchanged. Returns stderr.
pub fn fails_cleanly(ctx: &Ctx, args: &[&str], needles: &[&str]) -> String {
    let before = snapshot(&ctx.root);
    let err = ctx.fails(args);
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in:\n{err}");
    }
    assert!(
        err.starts_with("error: ") || err.contains("\nerror: "),
        "{err}"
    );
    assert_eq!(
        before,
        snapshot(&ctx.root),
        "the root changed after: gport {args:?}\n{err}"
    );
    err
}
