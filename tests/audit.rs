//! Patches: real-world series (Debian's debian/patches for packages of the
//! tree) applied by gport give the same tree as GNU patch; the audit names
//! each kind of patch; makepatch round-trips an edit.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::synth::{E, PortSpec, write_port};
use common::{Ctx, real_distfiles, repo, snapshot};

/// Contents and types of a tree, without times.
fn tree_view(dir: &Path) -> BTreeMap<PathBuf, String> {
    snapshot(dir)
        .into_iter()
        .map(|(p, d)| (p, d.split(" mtime=").next().unwrap().to_string()))
        .collect()
}

/// Debian's patch series for a source package from the seed's download
/// cache: (patches dir, [(file, strip)]).
fn debian_series(tmp: &Path, package: &str) -> (PathBuf, Vec<(String, usize)>) {
    let cache = real_distfiles().parent().unwrap().join("debian-src");
    let deb = fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(&format!("{package}_")) && n.contains(".debian.tar.")
        })
        .unwrap_or_else(|| {
            panic!(
                "no Debian source for {package} in {} (run mirror/seed)",
                cache.display()
            )
        });
    let out = tmp.join(format!("deb-{package}"));
    fs::create_dir_all(&out).unwrap();
    assert!(
        Command::new("tar")
            .arg("-xf")
            .arg(&deb)
            .arg("-C")
            .arg(&out)
            .status()
            .unwrap()
            .success()
    );
    let dir = out.join("debian/patches");
    let series = fs::read_to_string(dir.join("series")).unwrap();
    let list = series
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut w = l.split_whitespace();
            let file = w.next().unwrap().to_string();
            let strip = w
                .find_map(|o| o.strip_prefix("-p"))
                .map_or(1, |n| n.parse().unwrap());
            (file, strip)
        })
        .collect();
    (dir, list)
}

/// A test tree holding the repo's port `name` with its patches replaced by
/// `series` (and no overlays).
fn port_with_series(tree: &Path, name: &str, patches: &Path, series: &[(String, usize)]) {
    let dest = tree.join("gports").join(name);
    let src = ["gports", "base"]
        .iter()
        .map(|c| repo().join(c).join(name))
        .find(|p| p.exists())
        .unwrap();
    assert!(
        Command::new("cp")
            .arg("-a")
            .arg(&src)
            .arg(&dest)
            .status()
            .unwrap()
            .success()
    );
    let _ = fs::remove_dir_all(dest.join("patches"));
    fs::create_dir_all(dest.join("patches")).unwrap();
    let mut doc: toml_edit::DocumentMut = fs::read_to_string(dest.join("port.toml"))
        .unwrap()
        .parse()
        .unwrap();
    doc.remove("patch");
    doc.remove("overlays");
    // Debian's patches are relative to the unpacked archive's top directory.
    if let Some(build) = doc.get_mut("build").and_then(|b| b.as_table_mut()) {
        build.remove("srcdir");
    }
    let mut arr = toml_edit::ArrayOfTables::new();
    for (file, strip) in series {
        let to = dest.join("patches").join(file);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(patches.join(file), &to).unwrap();
        let mut t = toml_edit::Table::new();
        t["file"] = toml_edit::value(file.as_str());
        t["strip"] = toml_edit::value(*strip as i64);
        arr.push(t);
    }
    doc.insert("patch", toml_edit::Item::ArrayOfTables(arr));
    fs::write(dest.join("port.toml"), doc.to_string()).unwrap();
}

#[test]
fn real_debian_series_apply_like_gnu_patch() {
    // (Debian source package, port of the tree)
    let cases = [
        ("lua5.4", "lua"),
        ("bzip2", "bzip2"),
        ("dash", "dash"),
        ("xz-utils", "xz"),
        ("expat", "expat"),
        ("libarchive", "libarchive"),
        ("mksh", "mksh"),
    ];
    let mut ctx = Ctx::real();
    ctx.tree = ctx.tmp.path().join("tree");
    fs::create_dir_all(ctx.tree.join("gports")).unwrap();
    let mut total = 0;
    for (deb, port) in cases {
        let (dir, series) = debian_series(ctx.tmp.path(), deb);
        assert!(!series.is_empty(), "{deb} has no patches");
        total += series.len();
        port_with_series(&ctx.tree, port, &dir, &series);
        // gport's engine, through the porter's `extract`.
        let ours = PathBuf::from(ctx.ok(&["extract", port]).trim());
        // GNU patch on a plain unpacking of the same verified tarball.
        let gnu_root = ctx.tmp.path().join(format!("gnu-{port}"));
        fs::create_dir_all(&gnu_root).unwrap();
        let info = ctx.ok(&["info", port]);
        let file = info
            .lines()
            .find_map(|l| l.strip_prefix("source"))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        assert!(
            Command::new("tar")
                .arg("-xf")
                .arg(real_distfiles().join(&file))
                .arg("-C")
                .arg(&gnu_root)
                .status()
                .unwrap()
                .success()
        );
        let gnu = gnu_root.join(ours.file_name().unwrap());
        for (p, strip) in &series {
            let out = Command::new("patch")
                .args(["-s", "--no-backup-if-mismatch", &format!("-p{strip}"), "-i"])
                .arg(dir.join(p))
                .current_dir(&gnu)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "GNU patch failed on {deb}/{p}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
        let (a, b) = (tree_view(&ours), tree_view(&gnu));
        let differ: Vec<_> = a
            .keys()
            .chain(b.keys())
            .filter(|k| a.get(*k) != b.get(*k))
            .take(5)
            .collect();
        assert!(
            differ.is_empty(),
            "{deb}: gport and GNU patch differ at {differ:?}"
        );
        // And the audit agrees every patch applies.
        let json: serde_json::Value = serde_json::from_str(
            &String::from_utf8(ctx.run(&["audit", "--json", port]).stdout).unwrap(),
        )
        .unwrap();
        for p in json["ports"][0]["patches"].as_array().unwrap() {
            let st = p["status"].as_str().unwrap();
            assert!(
                ["applies", "offset", "fuzz"].contains(&st),
                "{deb}: {} is {st}: {}",
                p["file"],
                p["detail"]
            );
        }
    }
    assert!(total >= 60, "only {total} real patches exercised");
}

const BASE: &[u8] = b"one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";

fn hunk(file: &str, at: usize, body: &str) -> String {
    format!("--- a/{file}\n+++ b/{file}\n@@ -{at},5 +{at},5 @@\n{body}")
}

const HEADER: &str =
    "Description: t\nOrigin: test\nForwarded: no\nAuthor: me\nLast-Update: 2026-01-01\n\n";

#[test]
fn audit_names_every_kind_of_patch() {
    let ctx = Ctx::with_own_tree();
    let files: Vec<&'static str> = ["a", "b", "c", "d", "e", "f"]
        .iter()
        .map(|f| &*Box::leak(format!("src/{f}.txt").into_boxed_str()))
        .collect();
    let mut entries = vec![E::Dir("src/")];
    for f in &files {
        entries.push(E::File(f, BASE, 0o644));
    }
    // e.txt already carries the change "upstream".
    let e_txt: &'static [u8] = b"one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\n";
    entries[5] = E::File("src/e.txt", e_txt, 0o644);
    let dir = write_port(
        &ctx,
        &PortSpec {
            entries,
            ..PortSpec::hello("pp")
        },
    );
    let change = " two\n three\n-four\n+FOUR\n five\n six\n";
    let patches = [
        (
            "exact.patch",
            format!("{HEADER}{}", hunk("a.txt", 2, change)),
        ),
        (
            "offset.patch",
            format!("{HEADER}{}", hunk("b.txt", 5, change)),
        ),
        (
            "fuzz.patch",
            format!(
                "{HEADER}{}",
                hunk("c.txt", 2, " TWO\n three\n-four\n+FOUR\n five\n SIX\n")
            ),
        ),
        (
            "fails.patch",
            format!(
                "{HEADER}{}",
                hunk("d.txt", 2, " two\n three\n-vier\n+FOUR\n five\n six\n")
            ),
        ),
        (
            "upstream.patch",
            format!("{HEADER}{}", hunk("e.txt", 2, change)),
        ),
        ("noheader.patch", hunk("f.txt", 2, change)),
    ];
    let mut toml = fs::read_to_string(dir.join("port.toml")).unwrap();
    for (name, text) in &patches {
        fs::write(dir.join("patches").join(name), text).unwrap();
        toml.push_str(&format!("\n[[patch]]\nfile = \"{name}\"\n"));
    }
    toml.push_str("\n[[patch]]\nfile = \"missing.patch\"\n");
    fs::write(dir.join("port.toml"), toml).unwrap();
    fs::write(dir.join("patches/orphan.patch"), "not listed").unwrap();

    let out = ctx.run(&["audit", "pp"]);
    assert!(!out.status.success(), "failures must fail the audit");
    let table = String::from_utf8(out.stdout).unwrap();
    let row = |patch: &str| {
        table
            .lines()
            .find(|l| l.contains(patch))
            .unwrap_or_else(|| panic!("{patch} missing:\n{table}"))
            .to_string()
    };
    assert!(row("exact.patch").contains(" applies "), "{table}");
    assert!(
        row("offset.patch").contains(" offset ")
            && row("offset.patch").contains("b.txt#1: offset -3 fuzz 0"),
        "{table}"
    );
    assert!(
        row("fuzz.patch").contains(" fuzz ") && row("fuzz.patch").contains("fuzz 1"),
        "{table}"
    );
    assert!(
        row("fails.patch").contains(" fails ")
            && row("fails.patch").contains("hunk #1 of d.txt does not apply"),
        "{table}"
    );
    assert!(
        row("upstream.patch").contains(" already-applied "),
        "{table}"
    );
    assert!(
        row("noheader.patch")
            .contains("missing headers: Description, Origin, Forwarded or Applied-Upstream"),
        "{table}"
    );
    assert!(row("missing.patch").contains(" missing "), "{table}");
    assert!(row("orphan.patch").contains(" orphan "), "{table}");
    assert!(
        table.contains("1 ports, 1 carrying patches: 7 patches"),
        "{table}"
    );

    // The same in JSON, as documented in docs/audit.md.
    let json: serde_json::Value =
        serde_json::from_slice(&ctx.run(&["audit", "--json", "pp"]).stdout).unwrap();
    let p = &json["ports"][0];
    assert_eq!(p["name"], "pp");
    let status: BTreeMap<String, String> = p["patches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["file"].as_str().unwrap().into(),
                x["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(status["exact.patch"], "applies");
    assert_eq!(status["offset.patch"], "offset");
    assert_eq!(status["fuzz.patch"], "fuzz");
    assert_eq!(status["fails.patch"], "fails");
    assert_eq!(status["upstream.patch"], "already-applied");
    assert_eq!(status["missing.patch"], "missing");
    assert_eq!(p["orphans"], serde_json::json!(["orphan.patch"]));
    let exact = &p["patches"][0];
    assert_eq!(
        (exact["added"].as_u64(), exact["removed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(exact["upstream"], "local-only");
    assert_eq!(exact["files"], serde_json::json!(["a.txt"]));
    assert_eq!(json["summary"]["patches"], 7);
    assert_eq!(json["summary"]["orphans"], 1);
    assert!(json["summary"]["failing"].as_u64().unwrap() >= 3);
}

#[test]
fn makepatch_round_trip() {
    let ctx = Ctx::with_own_tree();
    let dir = write_port(
        &ctx,
        &PortSpec {
            entries: vec![
                E::Dir("src/"),
                E::File("src/a.txt", BASE, 0o644),
                E::File("src/b.txt", BASE, 0o644),
                E::File("src/hello.sh", b"#!/bin/sh\necho hello\n", 0o644),
            ],
            patch: Some(&*Box::leak(
                format!(
                    "{HEADER}{}",
                    hunk("a.txt", 2, " two\n three\n-four\n+FOUR\n five\n six\n")
                )
                .into_boxed_str(),
            )),
            ..PortSpec::hello("mp")
        },
    );
    let src = PathBuf::from(ctx.ok(&["extract", "mp"]).trim());
    assert_eq!(
        fs::read(src.join("a.txt")).unwrap(),
        b"one\ntwo\nthree\nFOUR\nfive\nsix\nseven\neight\n"
    );
    // The porter edits: more in the patched file, a new change elsewhere,
    // a new file.
    fs::write(
        src.join("a.txt"),
        "one\ntwo\nthree\nFOUR\nfive\nsix\nseven\nEIGHT\n",
    )
    .unwrap();
    fs::write(
        src.join("b.txt"),
        "one\n2\nthree\nfour\nfive\nsix\nseven\neight\n",
    )
    .unwrap();
    fs::write(src.join("new.h"), "#define NEW 1\n").unwrap();
    let out = ctx.ok(&["makepatch", "mp"]);
    assert!(
        out.contains("updated\tfix.patch")
            && out.contains("created\tb.txt.patch")
            && out.contains("created\tnew.h.patch"),
        "{out}"
    );
    let fix = fs::read_to_string(dir.join("patches/fix.patch")).unwrap();
    assert!(fix.starts_with(HEADER), "the header is kept:\n{fix}");
    assert!(
        fs::read_to_string(dir.join("port.toml"))
            .unwrap()
            .contains("file = \"new.h.patch\"")
    );
    let edited = tree_view(&src);

    // Clean re-extract reproduces the edit; makepatch again changes nothing.
    let src2 = PathBuf::from(ctx.ok(&["extract", "mp"]).trim());
    assert_eq!(tree_view(&src2), edited);
    let before = tree_view(&dir);
    let out = ctx.ok(&["makepatch", "mp"]);
    assert!(
        out.contains("unchanged\tfix.patch")
            && !out.contains("updated")
            && !out.contains("created"),
        "{out}"
    );
    assert_eq!(tree_view(&dir), before, "a second makepatch is a no-op");
    // The audit is clean for the new patches too.
    ctx.ok(&["audit", "mp"]);

    // Undo the edit to b.txt: its patch is reported empty.
    fs::write(src2.join("b.txt"), BASE).unwrap();
    let out = ctx.ok(&["makepatch", "mp"]);
    assert!(out.contains("empty\tb.txt.patch"), "{out}");
}
