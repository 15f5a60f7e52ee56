//! The operator's read-only helpers: etc-diff, outdated, search; dry runs
//! of the remaining mutating commands; a closed pipe is not an error.

mod common;

use std::fs;
use std::process::Stdio;

use common::synth::{BUILD_HELLO, PortSpec, write_port};
use common::{Ctx, snapshot};

#[test]
fn etc_diff_outdated_search() {
    let mut ctx = Ctx::with_own_tree();
    let ship = |conf: &str| {
        format!(
            "{BUILD_HELLO}mkdir -p \"$DESTDIR$PREFIX/etc/svc\"\nprintf '{conf}' > \"$DESTDIR$PREFIX/etc/svc/svc.conf\"\n"
        )
    };
    let v1 = ship("a=1\\n");
    write_port(
        &ctx,
        &PortSpec {
            build: &v1,
            ..PortSpec::hello("svc")
        },
    );
    let t1 = ctx.tree.clone();
    let t2 = ctx.tmp.path().join("tree2");
    fs::create_dir_all(t2.join("gports")).unwrap();
    ctx.tree = t2.clone();
    let v2 = ship("a=1\\nb=2\\n");
    write_port(
        &ctx,
        &PortSpec {
            version: "2.0",
            build: &v2,
            ..PortSpec::hello("svc")
        },
    );
    ctx.tree = t1;
    ctx.ok(&["install", "svc"]);

    let out = ctx.ok(&["etc-diff"]);
    assert!(
        out.contains(
            "svc-1.0: /etc/svc/svc.conf is not in use (example: /etc/examples/svc/svc.conf)"
        ),
        "{out}"
    );
    fs::create_dir_all(ctx.root.join("etc/svc")).unwrap();
    fs::write(ctx.root.join("etc/svc/svc.conf"), "a=2\n").unwrap();
    let before = snapshot(&ctx.root);
    let out = ctx.ok(&["etc-diff", "svc"]);
    assert!(
        out.contains("/etc/svc/svc.conf differs from the example") && out.contains("-a=1\n+a=2\n"),
        "{out}"
    );
    assert_eq!(before, snapshot(&ctx.root), "etc-diff is read-only");

    ctx.tree = t2;
    assert!(
        ctx.ok(&["outdated"])
            .contains("svc              1.0          -> 2.0")
    );
    ctx.ok(&["upgrade"]);
    assert!(ctx.ok(&["outdated"]).is_empty());
    let out = ctx.ok(&["etc-diff", "svc"]);
    assert!(
        out.contains("the example /etc/examples/svc/svc.conf changed since svc-1.0")
            && out.contains("+b=2"),
        "{out}"
    );
    assert_eq!(
        fs::read_to_string(ctx.root.join("etc/svc/svc.conf")).unwrap(),
        "a=2\n",
        "live configuration untouched"
    );

    assert!(ctx.ok(&["search", "TEST PORT"]).starts_with("svc "));
    assert!(ctx.ok(&["search", "nothing-like-this"]).is_empty());
    assert!(
        ctx.fails(&["etc-diff", "nope"])
            .contains("package 'nope' is not installed")
    );
}

#[test]
fn more_dry_runs_change_nothing() {
    let ctx = Ctx::with_own_tree();
    write_port(&ctx, &PortSpec::hello("hello"));
    let m = ctx.tmp.path().join("m");
    fs::create_dir_all(&m).unwrap();
    fs::write(m.join("x.tgz"), b"x").unwrap();
    ctx.ok(&["mirror", "index", m.to_str().unwrap()]);
    let dest = ctx.tmp.path().join("copy");
    let out = ctx.ok(&[
        "-n",
        "mirror",
        "sync",
        m.to_str().unwrap(),
        dest.to_str().unwrap(),
    ]);
    assert!(out.contains("1 files listed") && !dest.exists(), "{out}");
    let before = snapshot(&m);
    ctx.ok(&["-n", "mirror", "index", m.to_str().unwrap()]);
    assert_eq!(before, snapshot(&m));

    // import -n and extract -n write nothing.
    let tarball = ctx.distfiles.join("hello-1.0.tar.gz");
    let drop_dir = ctx.tmp.path().join("drop");
    fs::create_dir_all(&drop_dir).unwrap();
    fs::rename(&tarball, drop_dir.join("renamed.tgz")).unwrap();
    let out = ctx.ok(&["-n", "mirror", "import", drop_dir.to_str().unwrap()]);
    assert!(
        out.contains("imported\thello-1.0.tar.gz") && !tarball.exists(),
        "{out}"
    );
    ctx.ok(&["mirror", "import", drop_dir.to_str().unwrap()]);
    assert!(tarball.exists());
    let out = ctx.ok(&["-n", "extract", "hello"]);
    assert!(
        out.starts_with("would fetch, unpack and patch hello-1.0")
            && !ctx.work.join("hello-1.0").exists(),
        "{out}"
    );

    let src = std::path::PathBuf::from(ctx.ok(&["extract", "hello"]).trim());
    fs::write(src.join("hello.sh"), "#!/bin/sh\necho changed\n").unwrap();
    let tree_before = snapshot(&ctx.tree);
    let out = ctx.ok(&["-n", "makepatch", "hello"]);
    assert!(out.contains("would create\thello.sh.patch"), "{out}");
    assert_eq!(
        tree_before,
        snapshot(&ctx.tree),
        "makepatch -n changed the tree"
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let ctx = Ctx::with_own_tree();
    for i in 0..300 {
        write_port(
            &ctx,
            &PortSpec::hello(Box::leak(format!("p{i:03}").into_boxed_str())),
        );
    }
    let mut child = ctx
        .cmd(&["list", "--available"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.stderr.is_empty(),
        "a closed pipe must not produce errors: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
