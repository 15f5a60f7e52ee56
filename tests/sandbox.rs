//! The build sandbox: no network, no writes outside the work dir, no view
//! of the operator's home; a clear refusal when namespaces are unavailable,
//! and an explicit, announced opt-out.

mod common;

use std::fs;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::snapshot;
use common::synth::{BUILD_HELLO, PortSpec, lived_in, write_port};

#[test]
fn builds_cannot_reach_the_network_write_outside_or_read_home() {
    let ctx = lived_in();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    {
        let accepted = accepted.clone();
        std::thread::spawn(move || {
            for c in listener.incoming() {
                if c.is_ok() {
                    accepted.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    }
    let host_tmp = format!("/tmp/gport-sandbox-escape-{}", std::process::id());
    let root = ctx.root.display().to_string();
    let build = format!(
        r#"{BUILD_HELLO}
r="$DESTDIR$PREFIX/share/results"
mkdir -p "$DESTDIR$PREFIX/share"
try() {{ if ( eval "$2" ) 2>/dev/null; then echo "$1 allowed" >> "$r"; else echo "$1 denied" >> "$r"; fi; }}
try network "bash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'"
try root "touch '{root}/pwned'"
try store "mkdir '{root}/gales/pkg/pwned'"
try portdir "touch \"$PORTDIR/pwned\""
try home "touch /root/pwned"
try hosttmp "touch {host_tmp}"
ls -A /root > "$DESTDIR$PREFIX/share/root-listing"
test ! -e "$HOME/.ssh"
"#
    );
    write_port(
        &ctx,
        &PortSpec {
            build: &build,
            ..PortSpec::hello("probe")
        },
    );
    let tree_before = snapshot(&ctx.tree);
    ctx.ok(&["install", "probe"]);
    let results = fs::read_to_string(ctx.root.join("gales/pkg/probe-1.0/share/results")).unwrap();
    for what in ["network", "root", "store", "portdir", "home"] {
        assert!(
            results.contains(&format!("{what} denied")),
            "{what} was allowed:\n{results}"
        );
    }
    // /tmp inside is private: writing there works but never reaches the host.
    assert!(results.contains("hosttmp allowed"), "{results}");
    assert!(
        !std::path::Path::new(&host_tmp).exists(),
        "the build wrote into the host's /tmp"
    );
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        0,
        "the build reached a server on the host's loopback"
    );
    assert!(!ctx.root.join("pwned").exists() && !ctx.root.join("gales/pkg/pwned").exists());
    assert!(!std::path::Path::new("/root/pwned").exists());
    assert_eq!(
        tree_before,
        snapshot(&ctx.tree),
        "the build changed the ports tree"
    );
    let listing =
        fs::read_to_string(ctx.root.join("gales/pkg/probe-1.0/share/root-listing")).unwrap();
    assert!(
        listing.is_empty(),
        "the build saw the operator's home: {listing}"
    );
    assert!(
        fs::read_dir("/root").unwrap().next().is_some(),
        "(the host's /root is not empty)"
    );

    // Control: the same probe without the sandbox does reach the server, so
    // "denied" above is the sandbox's doing.
    fs::create_dir_all(ctx.root.join("etc")).unwrap();
    fs::write(ctx.root.join("etc/gport.conf"), "sandbox = false\n").unwrap();
    let control = format!("{BUILD_HELLO}\nbash -c 'exec 3<>/dev/tcp/127.0.0.1/{port}'\n");
    write_port(
        &ctx,
        &PortSpec {
            build: &control,
            ..PortSpec::hello("control")
        },
    );
    ctx.ok(&["install", "control"]);
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        1,
        "without the sandbox the probe connects"
    );
}

#[test]
fn without_namespaces_gport_refuses_unless_told_otherwise() {
    let ctx = lived_in();
    write_port(&ctx, &PortSpec::hello("nons"));
    let before = snapshot(&ctx.root);
    let out = ctx
        .cmd(&["install", "nons"])
        .env("GPORT_SANDBOX_PROBE_FAIL", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            "error: refusing to build nons-1.0 without a sandbox: user namespaces are unavailable"
        ),
        "{err}"
    );
    assert!(
        err.contains("hint:") && err.contains("sandbox = false"),
        "{err}"
    );
    assert_eq!(before, snapshot(&ctx.root));

    // The operator opts out explicitly: the build runs, and says so.
    fs::create_dir_all(ctx.root.join("etc")).unwrap();
    fs::write(ctx.root.join("etc/gport.conf"), "sandbox = false\n").unwrap();
    let out = ctx
        .cmd(&["install", "nons"])
        .env("GPORT_SANDBOX_PROBE_FAIL", "1")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: building nons-1.0 WITHOUT a sandbox"),
        "{err}"
    );
}

#[test]
fn build_check_names_what_differs() {
    let ctx = lived_in();
    // Deterministic.
    write_port(&ctx, &PortSpec::hello("steady"));
    let out = ctx.ok(&["build", "--check", "steady"]);
    assert!(
        out.starts_with("steady-1.0: reproducible (tree hash "),
        "{out}"
    );

    // Embeds the build time in a text file.
    let clock = format!(
        "{BUILD_HELLO}mkdir -p \"$DESTDIR$PREFIX/share\"\ndate +%s%N > \"$DESTDIR$PREFIX/share/stamp\"\n"
    );
    write_port(
        &ctx,
        &PortSpec {
            build: &clock,
            ..PortSpec::hello("clock")
        },
    );
    let out = ctx.run(&["build", "--check", "clock"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("differs\tshare/stamp\t") && text.contains("first difference at offset"),
        "{text}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("clock-1.0 does not build reproducibly: 1 difference(s)")
    );

    // Embeds the build path in a static binary: the ELF section is named.
    let cprog = "mkdir -p \"$DESTDIR$PREFIX/bin\"\nprintf '#include <stdio.h>\\nint main(void){puts(\"%s\");return 0;}\\n' \"$PWD\" > where.c\n$CC $CFLAGS $LDFLAGS -o \"$DESTDIR$PREFIX/bin/where\" where.c\n";
    write_port(
        &ctx,
        &PortSpec {
            build: cprog,
            ..PortSpec::hello("where")
        },
    );
    let out = ctx.run(&["build", "--check", "where"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains("differs\tbin/where\t") && text.contains("(ELF section ."),
        "{text}"
    );

    // A documented reason turns the failure into a report.
    let dir = ctx.tree.join("gports/clock");
    let toml = fs::read_to_string(dir.join("port.toml")).unwrap().replace(
        "[build]\n",
        "[build]\nunreproducible = \"embeds the build time on purpose\"\n",
    );
    fs::write(dir.join("port.toml"), toml).unwrap();
    let out = ctx.ok(&["build", "--check", "clock"]);
    assert!(
        out.contains("not reproducible, as its port.toml says: embeds the build time on purpose"),
        "{out}"
    );
}

#[test]
fn build_environment_is_exactly_the_documented_one() {
    let ctx = lived_in();
    let build = format!(
        "{BUILD_HELLO}mkdir -p \"$DESTDIR$PREFIX/share\"\nenv | cut -d= -f1 | sort > \"$DESTDIR$PREFIX/share/env\"\numask > \"$DESTDIR$PREFIX/share/umask\"\necho \"$SOURCE_DATE_EPOCH\" > \"$DESTDIR$PREFIX/share/epoch\"\n"
    );
    write_port(
        &ctx,
        &PortSpec {
            build: &build,
            ..PortSpec::hello("envy")
        },
    );
    let out = ctx
        .cmd(&["install", "envy"])
        .env("GPORT_CANARY", "leak")
        .env("SSH_AUTH_SOCK", "/leak")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let share = ctx.root.join("gales/pkg/envy-1.0/share");
    let vars: Vec<String> = fs::read_to_string(share.join("env"))
        .unwrap()
        .lines()
        .map(String::from)
        .filter(|v| !["PWD", "SHLVL", "OLDPWD", "_"].contains(&v.as_str()))
        .collect();
    let documented = [
        "CC",
        "CFLAGS",
        "CPPFLAGS",
        "DESTDIR",
        "HOME",
        "HOSTCC",
        "JOBS",
        "LC_ALL",
        "LDFLAGS",
        "NAME",
        "PATH",
        "PORTDIR",
        "PREFIX",
        "SOURCE_DATE_EPOCH",
        "SRCDIR",
        "TMPDIR",
        "TZ",
        "VERSION",
        "WORKDIR",
    ];
    assert_eq!(
        vars, documented,
        "the build saw variables beyond docs/gports.5.md"
    );
    assert_eq!(
        fs::read_to_string(share.join("umask")).unwrap().trim(),
        "0022"
    );
    // The synthetic tarball's entries are dated 1_600_000_000.
    assert_eq!(
        fs::read_to_string(share.join("epoch")).unwrap().trim(),
        "1600000000"
    );
}
