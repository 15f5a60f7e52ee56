//! Two and three builds of real ports side by side: install, upgrade,
//! rollback of a transaction, switch, rollback of a package, gc and remove,
//! checking after each step which build every link resolves to, that the
//! programs run, that `check` is clean, and that a foreign file is never
//! touched. Needs the seeded store and musl-gcc (tests/run.sh).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Ctx, repo};

/// A copy of the repository's port `name` in `tree`, with `revision` set
/// and `extra` appended to its build script.
fn variant(tree: &Path, name: &str, revision: u32, extra: &str) {
    let dest = tree.join("gports").join(name);
    fs::create_dir_all(tree.join("gports")).unwrap();
    assert!(
        Command::new("cp")
            .arg("-a")
            .arg(repo().join("gports").join(name))
            .arg(&dest)
            .status()
            .unwrap()
            .success()
    );
    let toml = fs::read_to_string(dest.join("port.toml")).unwrap();
    let (head, rest) = toml.split_once("\nsummary").unwrap();
    fs::write(
        dest.join("port.toml"),
        format!("{head}\nrevision = {revision}\nsummary{rest}"),
    )
    .unwrap();
    let mut build = fs::read_to_string(dest.join("build.sh")).unwrap();
    build.push_str(extra);
    fs::write(dest.join("build.sh"), build).unwrap();
}

/// The store path a link of the root resolves to.
fn resolves_to(ctx: &Ctx, link: &str) -> Option<PathBuf> {
    let real = fs::canonicalize(ctx.root.join(link)).ok()?;
    Some(
        real.strip_prefix(fs::canonicalize(&ctx.root).unwrap())
            .unwrap()
            .to_path_buf(),
    )
}

fn active(ctx: &Ctx, name: &str) -> Option<String> {
    fs::read_link(ctx.root.join("gales/pkg").join(name))
        .ok()
        .map(|t| t.to_string_lossy().into_owned())
}

fn lua_runs(ctx: &Ctx) {
    let out = ctx.exec("lua", &["-e", "print(1+1)"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2\n");
}

/// After each step: `check` is clean and the operator's own file untouched.
fn consistent(ctx: &Ctx) {
    ctx.ok(&["check"]);
    assert_eq!(
        fs::read_to_string(ctx.root.join("usr/bin/mine")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
}

const ADDS_AND_DROPS: &str = r#"
# Test variant: this build drops luac and adds a program.
rm "$DESTDIR$PREFIX/bin/luac" "$DESTDIR$PREFIX/share/man/man1/luac.1"
printf '#!/bin/sh\necho hello from r2\n' > "$DESTDIR$PREFIX/bin/luahello"
chmod 755 "$DESTDIR$PREFIX/bin/luahello"
"#;

#[test]
fn versions_switch_rollback_gc_remove() {
    let mut ctx = Ctx::real();
    let base = ctx.tmp.path().to_path_buf();
    let (t0, t1, t2) = (base.join("t0"), base.join("t1"), base.join("t2"));
    for t in [&t0, &t1, &t2] {
        fs::create_dir_all(t.join("gports")).unwrap();
    }
    variant(&t0, "lua", 0, "");
    variant(&t0, "bzip2", 0, "");
    variant(&t1, "lua", 1, "");
    variant(&t1, "bzip2", 0, "");
    variant(&t2, "lua", 2, ADDS_AND_DROPS);
    variant(&t2, "bzip2", 1, "");
    fs::create_dir_all(ctx.root.join("usr/bin")).unwrap();
    fs::write(ctx.root.join("usr/bin/mine"), "#!/bin/sh\necho mine\n").unwrap();

    // tx 1: the first builds.
    ctx.tree = t0.clone();
    ctx.ok(&["install", "lua", "bzip2"]);
    assert_eq!(
        resolves_to(&ctx, "usr/bin/lua").unwrap(),
        Path::new("gales/pkg/lua-5.4.4/bin/lua")
    );
    lua_runs(&ctx);
    consistent(&ctx);

    // tx 2: a revision bump, same file list: the pointer flips, links stay.
    ctx.tree = t1.clone();
    let link_before = fs::read_link(ctx.root.join("usr/bin/lua")).unwrap();
    ctx.ok(&["install", "lua"]);
    assert_eq!(active(&ctx, "lua").as_deref(), Some("lua-5.4.4_1"));
    assert_eq!(
        fs::read_link(ctx.root.join("usr/bin/lua")).unwrap(),
        link_before,
        "the link itself is unchanged"
    );
    assert_eq!(
        resolves_to(&ctx, "usr/bin/lua").unwrap(),
        Path::new("gales/pkg/lua-5.4.4_1/bin/lua")
    );
    lua_runs(&ctx);
    consistent(&ctx);

    // tx 3: upgrade both; lua's new build adds and drops files.
    ctx.tree = t2.clone();
    let plan = ctx.ok(&["-n", "upgrade"]);
    assert!(
        plan.contains("lua-5.4.4_2: build") && plan.contains("bzip2-1.0.8_1: build"),
        "{plan}"
    );
    ctx.ok(&["upgrade"]);
    assert_eq!(active(&ctx, "lua").as_deref(), Some("lua-5.4.4_2"));
    assert_eq!(active(&ctx, "bzip2").as_deref(), Some("bzip2-1.0.8_1"));
    assert_eq!(
        String::from_utf8_lossy(&ctx.exec("luahello", &[]).stdout),
        "hello from r2\n"
    );
    assert!(
        fs::symlink_metadata(ctx.root.join("usr/bin/luac")).is_err(),
        "luac's link must go with the build that dropped it"
    );
    assert!(fs::symlink_metadata(ctx.root.join("usr/share/man/man1/luac.1")).is_err());
    assert_eq!(
        resolves_to(&ctx, "usr/bin/bzip2").unwrap(),
        Path::new("gales/pkg/bzip2-1.0.8_1/bin/bzip2")
    );
    lua_runs(&ctx);
    consistent(&ctx);
    assert!(
        ctx.ok(&["upgrade"]).is_empty(),
        "a second upgrade has nothing to do"
    );

    // Undo tx 3 as a whole: both packages return.
    ctx.ok(&["rollback"]);
    assert_eq!(active(&ctx, "lua").as_deref(), Some("lua-5.4.4_1"));
    assert_eq!(active(&ctx, "bzip2").as_deref(), Some("bzip2-1.0.8"));
    assert!(fs::symlink_metadata(ctx.root.join("usr/bin/luahello")).is_err());
    assert_eq!(
        resolves_to(&ctx, "usr/bin/luac").unwrap(),
        Path::new("gales/pkg/lua-5.4.4_1/bin/luac")
    );
    lua_runs(&ctx);
    consistent(&ctx);
    // And again: undo tx 2.
    ctx.ok(&["rollback"]);
    assert_eq!(active(&ctx, "lua").as_deref(), Some("lua-5.4.4"));
    consistent(&ctx);

    // Switch to any installed build, then roll that package back.
    ctx.ok(&["switch", "lua", "5.4.4_2"]);
    assert_eq!(
        resolves_to(&ctx, "usr/bin/luahello").unwrap(),
        Path::new("gales/pkg/lua-5.4.4_2/bin/luahello")
    );
    consistent(&ctx);
    ctx.ok(&["rollback", "lua"]);
    assert_eq!(active(&ctx, "lua").as_deref(), Some("lua-5.4.4"));
    assert!(fs::symlink_metadata(ctx.root.join("usr/bin/luahello")).is_err());
    lua_runs(&ctx);
    consistent(&ctx);
    let err = ctx.fails(&["switch", "lua", "9.9"]);
    assert!(
        err.contains(
            "lua has no installed build 9.9 (installed: lua-5.4.4, lua-5.4.4_1, lua-5.4.4_2)"
        ),
        "{err}"
    );

    let history = ctx.ok(&["history"]);
    for needle in [
        "#1 ",
        "install lua bzip2",
        "#3 ",
        "upgrade",
        "lua: lua-5.4.4_1 -> lua-5.4.4_2",
        "rollback #3 (upgrade)",
        "switch lua 5.4.4_2",
        "rollback lua",
    ] {
        assert!(
            history.contains(needle),
            "{needle:?} missing from history:\n{history}"
        );
    }

    // gc keeps the newest inactive build of each package, then none.
    let before = ctx.ok(&["-n", "gc", "--keep", "1"]);
    assert_eq!(before, "would delete lua-5.4.4_1\n");
    ctx.ok(&["gc", "--keep", "1"]);
    assert!(!ctx.root.join("gales/pkg/lua-5.4.4_1").exists());
    assert!(
        ctx.root.join("gales/pkg/lua-5.4.4_2").exists()
            && ctx.root.join("gales/pkg/bzip2-1.0.8_1").exists()
    );
    consistent(&ctx);
    ctx.ok(&["gc"]);
    // What a rollback would return to is gone now: refused, nothing changes.
    let err = ctx.fails(&["rollback", "lua"]);
    assert!(
        err.contains("cannot roll back lua: the previous build lua-5.4.4_2 is no longer installed"),
        "{err}"
    );
    let err = ctx.fails(&["rollback"]);
    assert!(
        err.contains(
            "cannot roll back transaction #7 (rollback lua): lua-5.4.4_2 is no longer installed"
        ),
        "{err}"
    );
    let left: Vec<String> = fs::read_dir(ctx.root.join("gales/pkg"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let mut left = left;
    left.sort();
    assert_eq!(left, [".gport", "bzip2", "bzip2-1.0.8", "lua", "lua-5.4.4"]);
    lua_runs(&ctx);
    consistent(&ctx);

    // Remove: links, pointer and every build go; the rest stays.
    ctx.ok(&["remove", "lua"]);
    assert!(active(&ctx, "lua").is_none());
    assert!(!ctx.root.join("gales/pkg/lua-5.4.4").exists());
    assert!(fs::symlink_metadata(ctx.root.join("usr/bin/lua")).is_err());
    assert!(fs::symlink_metadata(ctx.root.join("usr/share/man/man1/lua.1")).is_err());
    assert_eq!(
        resolves_to(&ctx, "usr/bin/bzip2").unwrap(),
        Path::new("gales/pkg/bzip2-1.0.8/bin/bzip2")
    );
    consistent(&ctx);
    let err = ctx.fails(&["remove", "lua"]);
    assert!(err.contains("package 'lua' is not installed"), "{err}");
}
