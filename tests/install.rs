//! `gport install` on small synthetic ports. Above all: bad input gets a
//! clear error, a non-zero exit, and leaves the root byte
//! for byte as it was: each case compares a full snapshot (paths, types,
//! modes, sizes, hashes, link targets) before and after.
//!
//! The ports here are small synthetic ones built from tarballs the test
//! writes, so each hostile case is exact; the build scripts are plain sh.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::synth::{BUILD_HELLO, E, PortSpec, fails_cleanly, lived_in, write_port};
use common::{PyServer, sha256_hex, snapshot};

#[test]
fn corrupted_distfile_is_set_aside_and_reported() {
    let ctx = lived_in();
    write_port(&ctx, &PortSpec::hello("victim"));
    let good = fs::read(ctx.distfiles.join("victim-1.0.tar.gz")).unwrap();
    let mut bad = good.clone();
    bad[20] ^= 0xff;
    fs::write(ctx.distfiles.join("victim-1.0.tar.gz"), &bad).unwrap();
    let err = fails_cleanly(
        &ctx,
        &["install", "victim"],
        &[
            "victim-1.0.tar.gz: checksum mismatch",
            &format!("expected: sha256 {}", sha256_hex(&good)),
            &format!("actual:   sha256 {}", sha256_hex(&bad)),
            "http://127.0.0.1:9/victim-1.0.tar.gz",
        ],
    );
    assert!(err.contains("set aside"), "{err}");
    assert!(
        !ctx.distfiles.join("victim-1.0.tar.gz").exists(),
        "a bad file must not stay under its final name"
    );
    let rejected: Vec<_> = fs::read_dir(ctx.distfiles.join(".rejected"))
        .unwrap()
        .collect();
    assert_eq!(rejected.len(), 1);
}

#[test]
fn wrong_checksum_in_port_is_refused() {
    let ctx = lived_in();
    let dir = write_port(&ctx, &PortSpec::hello("wrongsum"));
    let toml = fs::read_to_string(dir.join("port.toml")).unwrap();
    let real = toml
        .lines()
        .find(|l| l.starts_with("sha256"))
        .unwrap()
        .to_string();
    fs::write(
        dir.join("port.toml"),
        toml.replace(&real, &format!("sha256 = \"{}\"", "ab".repeat(32))),
    )
    .unwrap();
    fails_cleanly(
        &ctx,
        &["install", "wrongsum"],
        &[
            "checksum mismatch",
            &format!("expected: sha256 {}", "ab".repeat(32)),
        ],
    );
}

#[test]
fn malformed_port_names_line_and_column() {
    let ctx = lived_in();
    let dir = write_port(&ctx, &PortSpec::hello("broken"));
    let toml = fs::read_to_string(dir.join("port.toml")).unwrap();
    fs::write(
        dir.join("port.toml"),
        toml.replace("version = \"1.0\"", "version = 1.0.0"),
    )
    .unwrap();
    fails_cleanly(
        &ctx,
        &["install", "broken"],
        &["gports/broken/port.toml:2:14: invalid float"],
    );
    fs::write(dir.join("port.toml"), toml.replace("license", "licence")).unwrap();
    fails_cleanly(
        &ctx,
        &["install", "broken"],
        &["gports/broken/port.toml:5:1: ", "licence"],
    );
}

fn hostile(name: &'static str, entries: Vec<E<'static>>, needles: &[&str]) {
    let ctx = lived_in();
    write_port(
        &ctx,
        &PortSpec {
            entries,
            ..PortSpec::hello(name)
        },
    );
    let outside = snapshot(ctx.tmp.path());
    let mut wanted = vec!["refusing entry"];
    wanted.extend_from_slice(needles);
    fails_cleanly(&ctx, &["install", name], &wanted);
    // Nothing escaped into the test's directory either (the work dir aside).
    let after = snapshot(ctx.tmp.path());
    let strip = |s: std::collections::BTreeMap<PathBuf, String>| -> Vec<PathBuf> {
        s.into_keys().filter(|p| !p.starts_with("work")).collect()
    };
    assert_eq!(strip(outside), strip(after));
}

#[test]
fn tarball_with_dotdot_is_refused() {
    hostile(
        "dotdot",
        vec![E::Dir("src/"), E::File("src/../../../evil", b"x", 0o644)],
        &["'src/../../../evil'", "'..'"],
    );
}

#[test]
fn tarball_with_absolute_path_is_refused() {
    hostile(
        "absolute",
        vec![
            E::Dir("src/"),
            E::File("/tmp/gport-evil-absolute", b"x", 0o644),
        ],
        &["absolute path"],
    );
    assert!(!Path::new("/tmp/gport-evil-absolute").exists());
}

#[test]
fn tarball_with_symlink_escape_is_refused() {
    hostile(
        "symesc",
        vec![
            E::Dir("src/"),
            E::Symlink("src/up", "../../../.."),
            E::File("src/up/evil", b"x", 0o644),
        ],
        &["'src/up'", "leaves the source tree"],
    );
    hostile(
        "symabs",
        vec![E::Dir("src/"), E::Symlink("src/etc", "/etc")],
        &["'src/etc'", "leaves the source tree"],
    );
    // A link that stays inside is fine, but nothing is written through it.
    hostile(
        "symthru",
        vec![
            E::Dir("src/"),
            E::Dir("src/d/"),
            E::Symlink("src/l", "d"),
            E::File("src/l/x", b"x", 0o644),
        ],
        &["'src/l/x'", "symlink"],
    );
}

#[test]
fn tarball_with_hardlink_escape_is_refused() {
    hostile(
        "hardesc",
        vec![
            E::Dir("src/"),
            E::Hardlink("src/passwd", "../../../../../etc/passwd"),
        ],
        &["'src/passwd'", "'..'"],
    );
    hostile(
        "hardabs",
        vec![E::Dir("src/"), E::Hardlink("src/passwd", "/etc/passwd")],
        &["'src/passwd'", "absolute path"],
    );
}

#[test]
fn tarball_with_device_node_is_refused() {
    hostile(
        "device",
        vec![E::Dir("src/"), E::CharDev("src/null")],
        &["'src/null'", "device node"],
    );
}

#[test]
fn patch_that_does_not_apply() {
    let ctx = lived_in();
    let patch = "Description: t\nOrigin: test\nForwarded: no\n\n--- a/hello.sh\n+++ b/hello.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo goodbye\n+echo bonjour\n";
    write_port(
        &ctx,
        &PortSpec {
            patch: Some(patch),
            ..PortSpec::hello("badpatch")
        },
    );
    fails_cleanly(
        &ctx,
        &["install", "badpatch"],
        &["fix.patch: hunk #1 does not apply to hello.sh"],
    );
}

#[test]
fn patch_that_applies_changes_the_program() {
    let ctx = lived_in();
    let patch = "Description: t\nOrigin: test\nForwarded: no\n\n--- a/hello.sh\n+++ b/hello.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo hello\n+echo bonjour\n";
    write_port(
        &ctx,
        &PortSpec {
            patch: Some(patch),
            ..PortSpec::hello("goodpatch")
        },
    );
    ctx.ok(&["install", "goodpatch"]);
    assert_eq!(
        String::from_utf8(ctx.exec("goodpatch", &[]).stdout).unwrap(),
        "bonjour\n"
    );
}

#[test]
fn failing_build_shows_the_log_tail() {
    let ctx = lived_in();
    let build = "echo compiling step one\necho 'fatal: something broke' >&2\nexit 3\n";
    write_port(
        &ctx,
        &PortSpec {
            build,
            ..PortSpec::hello("failing")
        },
    );
    let err = fails_cleanly(
        &ctx,
        &["install", "failing"],
        &[
            "build of failing-1.0 failed (exit status: 3)",
            "compiling step one",
            "fatal: something broke",
            "build.log",
        ],
    );
    let log = ctx.work.join("failing-1.0/build.log");
    assert!(err.contains(&log.display().to_string()), "{err}");
    assert!(log.is_file(), "the log of a failed build is kept");
}

#[test]
fn build_installing_outside_prefix_is_refused() {
    let ctx = lived_in();
    let build =
        format!("{BUILD_HELLO}mkdir -p \"$DESTDIR/etc\"; echo x > \"$DESTDIR/etc/passwd\"\n");
    write_port(
        &ctx,
        &PortSpec {
            build: &build,
            ..PortSpec::hello("outside")
        },
    );
    fails_cleanly(
        &ctx,
        &["install", "outside"],
        &["$DESTDIR/etc", "outside $PREFIX"],
    );
    let build = format!("{BUILD_HELLO}ln -s /etc/passwd \"$DESTDIR$PREFIX/bin/pw\"\n");
    write_port(
        &ctx,
        &PortSpec {
            build: &build,
            ..PortSpec::hello("abslink")
        },
    );
    fails_cleanly(
        &ctx,
        &["install", "abslink"],
        &["$PREFIX/bin/pw", "absolute symlink"],
    );
}

#[test]
fn dependency_cycle_is_named() {
    let ctx = lived_in();
    write_port(
        &ctx,
        &PortSpec {
            depends: &["cyc-b"],
            ..PortSpec::hello("cyc-a")
        },
    );
    write_port(
        &ctx,
        &PortSpec {
            depends: &["cyc-c"],
            ..PortSpec::hello("cyc-b")
        },
    );
    write_port(
        &ctx,
        &PortSpec {
            depends: &["cyc-a"],
            ..PortSpec::hello("cyc-c")
        },
    );
    fails_cleanly(
        &ctx,
        &["install", "cyc-a"],
        &["dependency cycle: cyc-a -> cyc-b -> cyc-c -> cyc-a"],
    );
}

#[test]
fn link_conflict_with_foreign_file() {
    let ctx = lived_in();
    fs::write(ctx.root.join("usr/bin/clash"), "operator's own script\n").unwrap();
    write_port(&ctx, &PortSpec::hello("clash"));
    let out = ctx.run(&["install", "clash"]);
    assert_eq!(out.status.code(), Some(3), "conflicts exit with 3");
    let err = fails_cleanly(
        &ctx,
        &["install", "clash"],
        &[
            "/usr/bin/clash is wanted by clash-1.0 but held by a file gport did not create",
            "nothing was changed",
        ],
    );
    assert!(!err.is_empty());
    assert_eq!(
        fs::read_to_string(ctx.root.join("usr/bin/clash")).unwrap(),
        "operator's own script\n"
    );
}

#[test]
fn link_conflict_with_another_package() {
    let ctx = lived_in();
    // A second port whose program has the same name as hello's.
    let build = "mkdir -p \"$DESTDIR$PREFIX/bin\"\ncp hello.sh \"$DESTDIR$PREFIX/bin/hello\"\n";
    write_port(
        &ctx,
        &PortSpec {
            build,
            ..PortSpec::hello("imposter")
        },
    );
    fails_cleanly(
        &ctx,
        &["install", "imposter"],
        &["/usr/bin/hello is wanted by imposter-1.0 but held by package hello-1.0"],
    );
}

#[test]
fn unknown_port_suggests() {
    let ctx = lived_in();
    fails_cleanly(
        &ctx,
        &["install", "helo"],
        &["unknown port 'helo'", "hint: did you mean 'hello'?"],
    );
}

#[test]
fn dry_run_changes_nothing() {
    let ctx = lived_in();
    write_port(&ctx, &PortSpec::hello("later"));
    let before = snapshot(&ctx.root);
    let plan = ctx.ok(&["--dry-run", "install", "later", "hello"]);
    assert!(
        plan.contains("later-1.0: build, install to /gales/pkg/later-1.0, link"),
        "{plan}"
    );
    assert!(
        plan.contains("hello-1.0: already installed and active"),
        "{plan}"
    );
    assert_eq!(before, snapshot(&ctx.root));
}

#[test]
fn dependencies_install_first_and_get_flags() {
    let ctx = lived_in();
    // The library port installs a header; the app's build checks that the
    // documented variables point at it.
    let lib_build = "mkdir -p \"$DESTDIR$PREFIX/include\"\necho '#define LIBV 7' > \"$DESTDIR$PREFIX/include/libv.h\"\n";
    write_port(
        &ctx,
        &PortSpec {
            build: lib_build,
            ..PortSpec::hello("libv")
        },
    );
    let app_build = format!(
        "test -f \"$DEP_LIBV/include/libv.h\"\ncase \"$CFLAGS\" in *\"-I$DEP_LIBV/include\"*) ;; *) exit 9;; esac\ncase \"$LDFLAGS\" in *\"-L$DEP_LIBV/lib\"*) ;; *) exit 9;; esac\ntest \"$DEP_LIBV_CFLAGS\" = \"-I$DEP_LIBV/include\"\n{BUILD_HELLO}"
    );
    write_port(
        &ctx,
        &PortSpec {
            build: &app_build,
            depends: &["libv"],
            ..PortSpec::hello("appv")
        },
    );
    assert_eq!(ctx.ok(&["deps", "appv"]), "libv-1.0\nappv-1.0\n");
    ctx.ok(&["install", "appv"]);
    assert!(ctx.root.join("gales/pkg/libv-1.0/include/libv.h").is_file());
    assert!(
        !ctx.root.join("usr/include").exists(),
        "headers stay in their package"
    );
    assert_eq!(
        String::from_utf8(ctx.exec("appv", &[]).stdout).unwrap(),
        "hello\n"
    );
}

#[test]
fn second_gport_waits_for_the_lock_and_says_so() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let ctx = lived_in();
    write_port(&ctx, &PortSpec::hello("waiter"));
    // Another process holds the lock for a moment (util-linux flock(1)).
    let lock = ctx.root.join("gales/pkg/.gport/lock");
    let mut holder = Command::new("flock")
        .arg(&lock)
        .args(["sleep", "2"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    let out = ctx
        .cmd(&["install", "waiter"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    holder.wait().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("waiting for the lock on") && err.contains("another gport is running"),
        "{err}"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(1200),
        "it did not wait"
    );
    assert!(ctx.root.join("usr/bin/waiter").exists());
}

#[test]
fn shipped_config_goes_to_etc_examples_only() {
    let ctx = lived_in();
    fs::create_dir_all(ctx.root.join("etc")).unwrap();
    fs::write(
        ctx.root.join("etc/svc.conf"),
        "the operator's live config\n",
    )
    .unwrap();
    let build = format!(
        "{BUILD_HELLO}mkdir -p \"$DESTDIR$PREFIX/etc\"\necho 'example=1' > \"$DESTDIR$PREFIX/etc/svc.conf\"\n"
    );
    write_port(
        &ctx,
        &PortSpec {
            build: &build,
            ..PortSpec::hello("svc")
        },
    );
    ctx.ok(&["install", "svc"]);
    assert_eq!(
        fs::read_to_string(ctx.root.join("etc/svc.conf")).unwrap(),
        "the operator's live config\n"
    );
    let example = ctx.root.join("etc/examples/svc.conf");
    assert_eq!(
        fs::read_link(&example).unwrap(),
        Path::new("../../gales/pkg/svc/etc/svc.conf")
    );
    assert_eq!(fs::read_to_string(&example).unwrap(), "example=1\n");
    let etc: Vec<_> = fs::read_dir(ctx.root.join("etc"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        etc.len(),
        2,
        "only svc.conf and examples/ under etc: {etc:?}"
    );
}

#[test]
fn fetches_from_mirrors_then_upstream() {
    let ctx = lived_in();
    write_port(&ctx, &PortSpec::hello("mirrored"));
    // Move the tarball out of the store into a directory served over HTTP
    // by an independent server.
    let served = ctx.tmp.path().join("served");
    fs::create_dir_all(&served).unwrap();
    fs::rename(
        ctx.distfiles.join("mirrored-1.0.tar.gz"),
        served.join("mirrored-1.0.tar.gz"),
    )
    .unwrap();
    let server = PyServer::start(&served);
    let url = server.1.clone();
    // An empty local mirror first, then the HTTP one: the second supplies it.
    let empty = ctx.tmp.path().join("empty-mirror");
    fs::create_dir_all(&empty).unwrap();
    let out = ctx.run(&[
        "--mirror",
        empty.to_str().unwrap(),
        "--mirror",
        &url,
        "install",
        "mirrored",
    ]);
    drop(server);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "fetching mirrored-1.0.tar.gz from {url}/mirrored-1.0.tar.gz"
        )),
        "{err}"
    );
    assert!(
        ctx.distfiles.join("mirrored-1.0.tar.gz").is_file(),
        "the verified download is kept in the store"
    );
    let leftovers: Vec<_> = fs::read_dir(&ctx.distfiles)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files left in the store: {leftovers:?}"
    );
    // A local-directory mirror with a corrupt copy: set aside, reported.
    write_port(&ctx, &PortSpec::hello("fromdir"));
    let good = fs::read(ctx.distfiles.join("fromdir-1.0.tar.gz")).unwrap();
    fs::remove_file(ctx.distfiles.join("fromdir-1.0.tar.gz")).unwrap();
    fs::write(empty.join("fromdir-1.0.tar.gz"), &good[..good.len() - 1]).unwrap();
    let err = fails_cleanly(
        &ctx,
        &["--mirror", empty.to_str().unwrap(), "install", "fromdir"],
        &["checksum mismatch", &format!("{} bytes", good.len() - 1)],
    );
    assert!(
        err.contains(&empty.join("fromdir-1.0.tar.gz").display().to_string()),
        "{err}"
    );
    fs::write(empty.join("fromdir-1.0.tar.gz"), &good).unwrap();
    ctx.ok(&["--mirror", empty.to_str().unwrap(), "install", "fromdir"]);
}

#[test]
fn settings_precedence_flag_env_file() {
    let ctx = lived_in();
    // The config file names a distfiles store that lacks the tarball; the
    // flag (which Ctx passes) wins over it.
    fs::create_dir_all(ctx.root.join("etc")).unwrap();
    fs::write(
        ctx.root.join("etc/gport.conf"),
        "distfiles = \"/nonexistent/store\"\njobs = 1\n",
    )
    .unwrap();
    write_port(&ctx, &PortSpec::hello("prec"));
    ctx.ok(&["install", "prec"]);
    // Without the flag, the environment wins over the file.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gport"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GPORT_ROOT", &ctx.root)
        .env("GPORT_TREE", &ctx.tree)
        .env("GPORT_DISTFILES", &ctx.distfiles)
        .args(["fetch", "prec"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // And with neither, the file's store is used (and lacks it).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_gport"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap())
        .env("GPORT_ROOT", &ctx.root)
        .env("GPORT_TREE", &ctx.tree)
        .args(["--dry-run", "fetch", "prec"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "prec-1.0.tar.gz: to fetch\n"
    );
}
