//! Every port of the real tree installs into a temporary root from its
//! verified upstream tarball, and its programs run through their links,
//! fully static. Needs the seeded distfiles store and musl-gcc (tests/run.sh).

mod common;

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{Ctx, is_static_elf};

fn stdout(out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Pipe `input` through a program of the root and return its output.
fn pipe(ctx: &Ctx, prog: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(ctx.root.join("usr/bin").join(prog))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&data));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{prog} {args:?} failed");
    out.stdout
}

/// Every link under `dir` of the root is relative, goes through a package
/// pointer, and resolves.
fn assert_links_sound(ctx: &Ctx, dir: &str) -> usize {
    let mut n = 0;
    for entry in walkdir(&ctx.root.join(dir)) {
        let meta = fs::symlink_metadata(&entry).unwrap();
        if !meta.file_type().is_symlink() {
            continue;
        }
        let target = fs::read_link(&entry).unwrap();
        assert!(
            target.is_relative(),
            "{} -> {} is absolute",
            entry.display(),
            target.display()
        );
        assert!(
            target.to_string_lossy().contains("gales/pkg/"),
            "{} -> {}",
            entry.display(),
            target.display()
        );
        assert!(fs::metadata(&entry).is_ok(), "{} dangles", entry.display());
        n += 1;
    }
    n
}

fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else {
        return out;
    };
    for e in entries {
        let p = e.unwrap().path();
        if fs::symlink_metadata(&p).unwrap().is_dir() {
            out.extend(walkdir(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn gports_install_and_run() {
    let ctx = Ctx::real();
    let ports = [
        "lua",
        "bzip2",
        "xz",
        "lz4",
        "dash",
        "expat",
        "libarchive",
        "byacc",
    ];
    let available = ctx.ok(&["list", "--available"]);
    for p in ports {
        assert!(
            available.lines().any(|l| l.starts_with(&format!("{p} "))),
            "{p} missing from:\n{available}"
        );
    }
    let mut args = vec!["install"];
    args.extend(ports);
    ctx.ok(&args);

    // Lua.
    let out = stdout(ctx.exec("lua", &["-e", "print(string.format('%d', 6*7), _VERSION)"]));
    assert_eq!(out, "42\tLua 5.4\n");

    // Compressors: round trips through the installed programs.
    let data: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    for (prog, c, d) in [
        ("bzip2", "-c", "-dc"),
        ("xz", "-c", "-dc"),
        ("lz4", "-c", "-dc"),
    ] {
        let packed = pipe(&ctx, prog, &[c], &data);
        assert!(packed.len() < data.len() / 2, "{prog} did not compress");
        assert_eq!(pipe(&ctx, prog, &[d], &packed), data, "{prog} round trip");
    }

    // Shell, parser generator, XML and archiver.
    assert_eq!(stdout(ctx.exec("dash", &["-c", "echo $((6*7))"])), "42\n");
    let xml = ctx.tmp.path().join("t.xml");
    fs::write(&xml, "<a><b/></a>").unwrap();
    assert!(ctx.exec("xmlwf", &[xml.to_str().unwrap()]).status.success());
    fs::write(&xml, "<a><b></a>").unwrap();
    assert!(
        !String::from_utf8_lossy(&ctx.exec("xmlwf", &[xml.to_str().unwrap()]).stdout).is_empty(),
        "xmlwf must report the error"
    );
    let v = stdout(ctx.exec("bsdtar", &["--version"]));
    assert!(
        v.contains("bz2lib") && v.contains("liblzma"),
        "bsdtar linked without its dependencies: {v}"
    );
    let arch = ctx.tmp.path().join("t.tar.xz");
    assert!(
        ctx.exec(
            "bsdtar",
            &[
                "-cJf",
                arch.to_str().unwrap(),
                "-C",
                ctx.tmp.path().to_str().unwrap(),
                "t.xml"
            ]
        )
        .status
        .success()
    );
    assert_eq!(
        stdout(ctx.exec("bsdtar", &["-tf", arch.to_str().unwrap()])),
        "t.xml\n"
    );
    assert!(
        ctx.exec("yacc", &["-V"]).status.success() || ctx.exec("byacc", &["-V"]).status.success()
    );

    // Static, relative, resolving.
    for prog in ["lua", "bzip2", "xz", "lz4", "dash", "xmlwf", "bsdtar"] {
        assert!(
            is_static_elf(&ctx.root.join("usr/bin").join(prog)),
            "{prog} is not a static executable"
        );
    }
    assert!(assert_links_sound(&ctx, "usr") > 20);

    // owner and files answer from the links.
    let owner = ctx.ok(&["owner", "/usr/bin/xz"]);
    assert!(
        owner.starts_with("/usr/bin/xz is owned by xz-5.4.1 (/gales/pkg/xz-5.4.1/bin/xz)"),
        "{owner}"
    );
    let files = ctx.ok(&["files", "lua"]);
    assert!(
        files.contains("/gales/pkg/lua-5.4.4/bin/lua\t/usr/bin/lua\n"),
        "{files}"
    );
    assert!(
        files.contains("/gales/pkg/lua-5.4.4/lib/liblua.a\n"),
        "libraries are not linked: {files}"
    );
    let err = ctx.fails(&["owner", "/usr/bin"]);
    assert!(err.contains("not owned by any package"), "{err}");
    let list = ctx.ok(&["list"]);
    assert!(
        list.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["libarchive", "3.6.2", "active"]),
        "{list}"
    );

    // Installed trees are read-only; the manifest covers every file.
    let pkg = ctx.root.join("gales/pkg/lua-5.4.4");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        fs::metadata(&pkg).unwrap().permissions().mode() & 0o777,
        0o555
    );
    let manifest = fs::read_to_string(pkg.join(".gport/manifest")).unwrap();
    assert!(
        manifest
            .lines()
            .any(|l| l.starts_with("f\t0555\t") && l.ends_with("\tbin/lua")),
        "{manifest}"
    );
    assert!(pkg.join(".gport/build.log").is_file() && pkg.join(".gport/port/port.toml").is_file());

    // A second install is a no-op.
    let before = common::snapshot(&ctx.root);
    ctx.ok(&["install", "lua"]);
    assert_eq!(before, common::snapshot(&ctx.root));
}

#[test]
fn base_installs_and_runs() {
    let ctx = Ctx::real();
    ctx.ok(&["install", "musl", "busybox", "mksh"]);
    assert_eq!(
        stdout(ctx.exec("mksh", &["-c", "echo $((6*7)) $KSH_VERSION"]))
            .split_whitespace()
            .next(),
        Some("42")
    );
    assert_eq!(stdout(ctx.exec("busybox", &["echo", "hello"])), "hello\n");
    for prog in ["mksh", "busybox"] {
        assert!(
            is_static_elf(&ctx.root.join("usr/bin").join(prog)),
            "{prog} is not static"
        );
    }
    // The musl package's compiler wrapper builds a static program.
    let c = ctx.tmp.path().join("hello.c");
    fs::write(
        &c,
        "#include <stdio.h>\nint main(void){puts(\"static hello\");return 0;}\n",
    )
    .unwrap();
    let exe = ctx.tmp.path().join("hello");
    let musl_gcc = ctx.root.join("usr/bin/musl-gcc");
    let status = Command::new(&musl_gcc)
        .args(["-static", "-o"])
        .arg(&exe)
        .arg(&c)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(is_static_elf(&exe));
    assert_eq!(
        stdout(Command::new(&exe).output().unwrap()),
        "static hello\n"
    );
    assert!(assert_links_sound(&ctx, "usr") > 3);
}

/// Every port of the tree builds reproducibly in the sandbox (two builds,
/// different paths and times, compared), or its port.toml says why not.
#[test]
fn every_real_port_passes_build_check() {
    let ctx = Ctx::real();
    // libarchive builds against these.
    ctx.ok(&["install", "bzip2", "xz"]);
    let mut failures = Vec::new();
    for cat in ["gports", "base"] {
        for e in fs::read_dir(common::repo().join(cat)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            let out = ctx.run(&["build", "--check", &name]);
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            if !out.status.success() {
                failures.push(format!(
                    "{name}:\n{text}{}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            } else {
                assert!(
                    text.contains("reproducible (tree hash")
                        || text.contains("as its port.toml says"),
                    "{name}: {text}"
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "ports that do not reproduce:\n{}",
        failures.join("\n")
    );
}
