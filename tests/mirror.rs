//! The append-only mirror: sync against a real, independent HTTP server
//! (python3 -m http.server) and against a hostile one written for the
//! tests; kill -9 during a sync; import by content; fetching through a
//! mirror by content.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::http::{Reply, Server};
use common::{Ctx, PyServer, sha256_hex, snapshot};

fn gport(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gport"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Deterministic pseudo-random bytes.
fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A mirror of `n` files over a few subdirectories, indexed by gport.
fn make_mirror(dir: &Path, n: usize) {
    for i in 0..n {
        let p = dir.join(format!("sub{}/deeper{}/file {i}.tar.gz", i % 4, i % 2));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes(i as u64, 1000 + i * 37)).unwrap();
    }
    assert!(
        gport(&["mirror", "index", dir.to_str().unwrap()])
            .status
            .success()
    );
}

/// Files of a mirror dir, without gport's own state.
fn contents(dir: &Path) -> BTreeMap<PathBuf, String> {
    snapshot(dir)
        .into_iter()
        .filter(|(p, d)| {
            !p.starts_with(".partial")
                && !p.starts_with(".gport-mirror.lock")
                && !d.starts_with("d ")
        })
        .map(|(p, d)| (p, d.split(" mtime=").next().unwrap().to_string()))
        .collect()
}

#[test]
fn sync_from_a_real_server_is_exact_append_only_and_idempotent() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, down) = (tmp.path().join("up"), tmp.path().join("down"));
    make_mirror(&up, 40);
    let server = PyServer::start(&up);
    let d = down.to_str().unwrap();

    let out = gport(&["mirror", "sync", &server.1, d]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("added 40, present 0, conflicts 0, refused 0, failed 0"),
        "{}",
        text(&out)
    );
    assert_eq!(
        contents(&up),
        contents(&down),
        "the copy is byte for byte the mirror, INDEX included"
    );
    assert!(!down.join(".partial").exists());

    // A second sync changes nothing.
    let before = snapshot(&down);
    let out = gport(&["mirror", "sync", &server.1, d]);
    assert!(
        text(&out).contains("added 0, present 40, conflicts 0"),
        "{}",
        text(&out)
    );
    assert_eq!(before, snapshot(&down));

    // New upstream files arrive; files gone upstream stay.
    fs::write(up.join("sub1/new.tar.xz"), bytes(99, 5000)).unwrap();
    fs::remove_file(up.join("sub0/deeper0/file 0.tar.gz")).unwrap();
    assert!(
        gport(&["mirror", "index", up.to_str().unwrap()])
            .status
            .success()
    );
    let out = gport(&["mirror", "sync", &server.1, d]);
    assert!(
        out.status.success() && text(&out).contains("added 1, present 39"),
        "{}",
        text(&out)
    );
    assert_eq!(
        fs::read(down.join("sub1/new.tar.xz")).unwrap(),
        bytes(99, 5000)
    );
    assert!(
        down.join("sub0/deeper0/file 0.tar.gz").exists(),
        "append-only: nothing is removed"
    );

    // A file changed upstream is a conflict; the local copy is untouched.
    let victim = "sub2/deeper0/file 2.tar.gz";
    let local_before = fs::read(down.join(victim)).unwrap();
    fs::write(up.join(victim), bytes(1234, local_before.len())).unwrap();
    assert!(
        gport(&["mirror", "index", up.to_str().unwrap()])
            .status
            .success()
    );
    let out = gport(&["mirror", "sync", &server.1, d]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains(&format!("conflict\t{victim}\tthe server says sha256")),
        "{}",
        text(&out)
    );
    assert_eq!(fs::read(down.join(victim)).unwrap(), local_before);
    // --verify hashes too, and the local INDEX tells the local truth.
    let local_index = fs::read_to_string(down.join("INDEX")).unwrap();
    assert!(local_index.contains(&format!(
        "{} {} {victim}\n",
        sha256_hex(&local_before),
        local_before.len()
    )));
}

#[test]
fn sync_from_a_directory_keeps_the_local_index_true() {
    let tmp = tempfile::tempdir().unwrap();
    let (up, down) = (tmp.path().join("up"), tmp.path().join("down"));
    make_mirror(&up, 12);
    let (u, d) = (up.to_str().unwrap(), down.to_str().unwrap());
    let out = gport(&["mirror", "sync", u, d]);
    assert!(
        out.status.success() && text(&out).contains("added 12, present 0, conflicts 0"),
        "{}",
        text(&out)
    );
    assert_eq!(contents(&up), contents(&down));

    // By hand: a file dropped in, one removed. The next sync puts the
    // removed one back, keeps the stranger, and its INDEX lists both.
    fs::write(down.join("sub0/dropped.tgz"), b"by hand").unwrap();
    let gone = "sub1/deeper1/file 1.tar.gz";
    fs::remove_file(down.join(gone)).unwrap();
    let out = gport(&["mirror", "sync", u, d]);
    assert!(
        out.status.success() && text(&out).contains("added 1, present 11, conflicts 0"),
        "{}",
        text(&out)
    );
    assert_eq!(
        fs::read(down.join(gone)).unwrap(),
        fs::read(up.join(gone)).unwrap()
    );
    let index = fs::read_to_string(down.join("INDEX")).unwrap();
    assert!(
        index.contains(&format!("{} 7 sub0/dropped.tgz\n", sha256_hex(b"by hand"))),
        "{index}"
    );
    assert_eq!(index.lines().filter(|l| !l.starts_with('#')).count(), 13);
    // And an unchanged directory is left exactly as it is.
    let before = snapshot(&down);
    let out = gport(&["mirror", "sync", u, d]);
    assert!(text(&out).contains("added 0, present 12"), "{}", text(&out));
    assert_eq!(before, snapshot(&down));
}

/// One hostile case: serve `index` (and `files`), sync into a directory
/// that already holds `keep.tgz`, and check the aftermath.
fn hostile_case(
    server: &Server,
    index: &str,
    files: Vec<(&str, Reply)>,
    needles: &[&str],
) -> String {
    server.clear();
    server.set("INDEX", Reply::Body(index.as_bytes().to_vec()));
    for (p, r) in files {
        server.set(p, r);
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("mirror");
    fs::create_dir_all(dir.join("real")).unwrap();
    fs::write(dir.join("keep.tgz"), b"precious").unwrap();
    let outside = tmp.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("linked")).unwrap();
    let before_outside = snapshot(
        tmp.path()
            .parent()
            .unwrap()
            .join(tmp.path().file_name().unwrap())
            .as_path(),
    )
    .into_iter()
    .filter(|(p, _)| !p.starts_with("mirror"))
    .collect::<BTreeMap<_, _>>();
    let out = gport(&["mirror", "sync", &server.url, dir.to_str().unwrap()]);
    let t = text(&out);
    assert!(
        !out.status.success(),
        "a hostile case must not pass quietly:\n{t}"
    );
    for n in needles {
        assert!(t.contains(n), "expected {n:?} in:\n{t}");
    }
    // Nothing outside DIR exists or changed.
    let after_outside = snapshot(tmp.path())
        .into_iter()
        .filter(|(p, _)| !p.starts_with("mirror"))
        .collect::<BTreeMap<_, _>>();
    assert_eq!(
        before_outside, after_outside,
        "something outside the mirror changed:\n{t}"
    );
    assert!(!Path::new("/tmp/gport-hostile-abs").exists());
    // Existing files are byte-identical; every file under a final name is verified.
    assert_eq!(fs::read(dir.join("keep.tgz")).unwrap(), b"precious");
    let listed: BTreeMap<String, String> = index
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ' ');
            Some((f.nth(2)?.to_string(), l.split(' ').next()?.to_string()))
        })
        .map(|(p, s)| (p, s))
        .collect();
    for (p, d) in snapshot(&dir) {
        let name = p.to_string_lossy().into_owned();
        if !d.starts_with("f ")
            || name == "INDEX"
            || name == "keep.tgz"
            || name.starts_with(".partial/")
            || name.starts_with(".gport-mirror")
        {
            continue;
        }
        let sha = sha256_hex(&fs::read(dir.join(&p)).unwrap());
        assert_eq!(
            listed.get(&name),
            Some(&sha),
            "{name} sits under a final name unverified"
        );
    }
    t
}

#[test]
fn hostile_server_cases() {
    let server = Server::start();
    let body = b"a real distfile".to_vec();
    let sha = sha256_hex(&body);
    let n = body.len();
    let line = |p: &str| format!("{sha} {n} {p}\n");

    for (path, reason) in [
        ("../escape.tgz", "'..' component"),
        ("a/../../escape.tgz", "'..' component"),
        ("/tmp/gport-hostile-abs", "absolute path"),
        ("a/./b.tgz", "'.' component"),
        ("a//b.tgz", "empty path component"),
        ("a\\b.tgz", "backslash"),
        ("a\u{1b}b.tgz", "control character"),
        ("a\u{0}b.tgz", "control character"),
        (".partial/x", "reserved"),
        ("linked/evil.tgz", "linked is a symlink here"),
        ("keep.tgz/x", "keep.tgz is not a directory here"),
        ("real", "not a regular file here"),
    ] {
        hostile_case(
            &server,
            &line(path),
            vec![(path, Reply::Body(body.clone()))],
            &["refused", reason],
        );
    }
    // An INDEX listing a file named INDEX: the mirror's own name.
    hostile_case(
        &server,
        &line("INDEX"),
        vec![],
        &["refused", "reserved name"],
    );
    let long = "x".repeat(300);
    hostile_case(
        &server,
        &line(&long),
        vec![],
        &["refused", "component longer than 255"],
    );
    hostile_case(
        &server,
        &line(&format!("{}f", "d/".repeat(600))),
        vec![],
        &["refused", "path longer than 1024"],
    );
    // An empty name: the third field is empty.
    hostile_case(
        &server,
        &format!("{sha} {n} \n"),
        vec![],
        &["refused", "empty path"],
    );
    // A newline inside a name breaks its line: the INDEX is malformed.
    hostile_case(
        &server,
        &format!("{sha} {n} a\nb.tgz\n"),
        vec![],
        &["INDEX line 2", "expected '<sha256> <size> <path>'"],
    );

    // A changed file the client already has.
    let t = hostile_case(
        &server,
        &format!("{} 8 keep.tgz\n", sha256_hex(b"imposter")),
        vec![("keep.tgz", Reply::Body(b"imposter".to_vec()))],
        &["conflict\tkeep.tgz"],
    );
    assert!(t.contains("local file kept"));
    hostile_case(
        &server,
        &format!("{} 3 keep.tgz\n", sha256_hex(b"new")),
        vec![],
        &["conflict\tkeep.tgz", "local file has 8"],
    );

    // Bodies that lie.
    hostile_case(
        &server,
        &line("real/trunc.tgz"),
        vec![(
            "real/trunc.tgz",
            Reply::Short {
                body: body[..5].to_vec(),
                declared: n,
            },
        )],
        &["failed\treal/trunc.tgz"],
    );
    hostile_case(
        &server,
        &line("real/long.tgz"),
        vec![(
            "real/long.tgz",
            Reply::Body([body.clone(), b"and more".to_vec()].concat()),
        )],
        &["failed\treal/long.tgz", "more than the"],
    );
    hostile_case(
        &server,
        &line("real/wrong.tgz"),
        vec![("real/wrong.tgz", Reply::Body(b"another content".to_vec()))],
        &["failed\treal/wrong.tgz", "sha256 mismatch"],
    );
    hostile_case(
        &server,
        &line("real/drop.tgz"),
        vec![(
            "real/drop.tgz",
            Reply::Short {
                body: Vec::new(),
                declared: n,
            },
        )],
        &["failed\treal/drop.tgz"],
    );
    hostile_case(
        &server,
        &line("real/endless.tgz"),
        vec![("real/endless.tgz", Reply::Endless)],
        &["failed\treal/endless.tgz", "more than the"],
    );
    hostile_case(
        &server,
        &line("real/gone.tgz"),
        vec![],
        &["failed\treal/gone.tgz", "404"],
    );

    // An INDEX that is itself malformed or huge.
    hostile_case(&server, "this is not an index\n", vec![], &["INDEX line 1"]);
    hostile_case(
        &server,
        &format!("{} {n} x.tgz\n", "Z".repeat(64)),
        vec![],
        &["is not a lower-case hex sha256"],
    );
    server.clear();
    server.set("INDEX", Reply::Endless);
    let tmp = tempfile::tempdir().unwrap();
    let out = gport(&[
        "mirror",
        "sync",
        &server.url,
        tmp.path().join("m").to_str().unwrap(),
    ]);
    assert!(
        !out.status.success() && text(&out).contains("INDEX is larger than 64 MiB"),
        "{}",
        text(&out)
    );

    // Good entries beside bad ones still arrive.
    let t = hostile_case(
        &server,
        &format!("{}{}", line("../bad.tgz"), line("real/good.tgz")),
        vec![("real/good.tgz", Reply::Body(body.clone()))],
        &["refused\t../bad.tgz", "added 1"],
    );
    assert!(t.contains("refused 1"));
}

#[test]
fn kill_during_sync_then_resume() {
    let server = Server::start();
    let big = bytes(7, 3 << 20);
    let small = bytes(8, 4000);
    let index = format!(
        "{} {} big.tar.gz\n{} {} small.tgz\n",
        sha256_hex(&big),
        big.len(),
        sha256_hex(&small),
        small.len()
    );
    server.set("INDEX", Reply::Body(index.into_bytes()));
    server.set(
        "big.tar.gz",
        Reply::Slow {
            body: big.clone(),
            pause: Duration::from_millis(20),
        },
    );
    server.set("small.tgz", Reply::Body(small.clone()));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("m");
    let mut child = Command::new(env!("CARGO_BIN_EXE_gport"))
        .args(["mirror", "sync", &server.url, dir.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until part of the big file has arrived, then kill -9.
    let partial = dir
        .join(".partial")
        .join(format!("{}-{}", sha256_hex(&big), big.len()));
    for _ in 0..400 {
        if fs::metadata(&partial)
            .map(|m| m.len() > 200_000)
            .unwrap_or(false)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let had = fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
    assert!(
        had > 0 && had < big.len() as u64,
        "the kill should land mid-download ({had} bytes)"
    );
    assert!(
        !dir.join("big.tar.gz").exists(),
        "nothing unverified under a final name"
    );

    // Sync again (fast server now): it resumes with a Range request.
    server.set("big.tar.gz", Reply::Body(big.clone()));
    server.requests.lock().unwrap().clear();
    let out = gport(&["mirror", "sync", &server.url, dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(fs::read(dir.join("big.tar.gz")).unwrap(), big);
    assert_eq!(fs::read(dir.join("small.tgz")).unwrap(), small);
    let reqs = server.requests.lock().unwrap().clone();
    assert!(
        reqs.iter()
            .any(|(p, r)| p == "big.tar.gz" && r.as_deref() == Some(&format!("bytes={had}-")[..])),
        "no resume: {reqs:?}"
    );
    assert!(!dir.join(".partial").exists(), "nothing left in .partial");
}

#[test]
fn import_by_content_and_fetch_through_a_mirror_by_content() {
    use common::synth::{PortSpec, write_port};
    let ctx = Ctx::with_own_tree();
    write_port(&ctx, &PortSpec::hello("hello"));
    let tarball = fs::read(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap();
    fs::remove_file(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap();

    // import: a file with any name lands under the name the tree expects.
    let drop = ctx.tmp.path().join("downloads");
    fs::create_dir_all(&drop).unwrap();
    fs::write(drop.join("whatever_1.0.orig.tar.gz"), &tarball).unwrap();
    fs::write(drop.join("unrelated"), b"nothing").unwrap();
    let out = ctx.ok(&["mirror", "import", drop.to_str().unwrap()]);
    assert!(
        out.contains("imported\thello-1.0.tar.gz") && out.contains("unmatched 1"),
        "{out}"
    );
    assert_eq!(
        fs::read(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap(),
        tarball
    );
    assert!(
        ctx.ok(&["mirror", "import", drop.to_str().unwrap()])
            .contains("imported 0, present 1")
    );
    fs::remove_file(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap();

    // A mirror that renamed and moved the file: found by its sha256.
    let mirror = ctx.tmp.path().join("mirror");
    fs::create_dir_all(mirror.join("h/hello")).unwrap();
    fs::write(mirror.join("h/hello/renamed.tgz"), &tarball).unwrap();
    assert!(
        gport(&["mirror", "index", mirror.to_str().unwrap()])
            .status
            .success()
    );
    let server = PyServer::start(&mirror);
    let out = ctx.run(&["--mirror", &server.1, "install", "hello"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains(&format!(
            "fetching hello-1.0.tar.gz from {}/h/hello/renamed.tgz",
            server.1
        )),
        "{}",
        text(&out)
    );
    assert_eq!(
        fs::read(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap(),
        tarball
    );
}
