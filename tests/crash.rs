//! Crash safety and concurrency. gport is killed with SIGKILL at every
//! fault-injection point of install, upgrade, switch, rollback and remove
//! (points compiled into debug builds, see src/fault.rs), and at random
//! moments; after each kill: exactly the old or the new build is active,
//! every link resolves, nothing outside gport's paths changed, and `check
//! --repair` then `check` is clean. Also: two gports serialize on the lock,
//! and a reader never sees a missing file both builds have.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use common::synth::{E, PortSpec, write_port};
use common::{Ctx, snapshot};

const BUILD: &str = r#"mkdir -p "$DESTDIR$PREFIX/bin" "$DESTDIR$PREFIX/share/man/man1"
for f in bin/*; do cp "$f" "$DESTDIR$PREFIX/$f"; chmod 755 "$DESTDIR$PREFIX/$f"; done
cp p.1 "$DESTDIR$PREFIX/share/man/man1/p.1"
"#;

/// Port `p` at `version`: `bin/p` prints the version, `bin/only<N>` exists
/// only in that version, and a manual page both have.
fn port_p(ctx: &Ctx, version: &'static str, only: &'static str) {
    let script: &'static str = Box::leak(format!("#!/bin/sh\necho {version}\n").into_boxed_str());
    let only_path: &'static str = Box::leak(format!("src/bin/{only}").into_boxed_str());
    let man: &'static str = Box::leak(format!(".TH P 1\np {version}\n").into_boxed_str());
    write_port(
        ctx,
        &PortSpec {
            version,
            entries: vec![
                E::Dir("src/"),
                E::Dir("src/bin/"),
                E::File("src/bin/p", script.as_bytes(), 0o755),
                E::File(only_path, b"#!/bin/sh\necho only\n", 0o755),
                E::File("src/p.1", man.as_bytes(), 0o644),
            ],
            build: BUILD,
            ..PortSpec::hello("p")
        },
    );
}

/// Paths outside gport's own: everything but the store, links into it, and
/// directories (link directories are created as needed).
fn foreign_view(root: &Path) -> BTreeMap<PathBuf, String> {
    snapshot(root)
        .into_iter()
        .filter(|(p, d)| {
            !p.starts_with("gales")
                && !d.starts_with("d ")
                && !(d.starts_with("l ") && d.contains("gales/pkg"))
        })
        .collect()
}

fn active(root: &Path) -> Option<String> {
    fs::read_link(root.join("gales/pkg/p"))
        .ok()
        .map(|t| t.to_string_lossy().into_owned())
}

/// Every symlink below `dir` resolves.
fn all_links_resolve(dir: &Path) -> Result<(), String> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries {
        let p = e.unwrap().path();
        let m = fs::symlink_metadata(&p).unwrap();
        if m.file_type().is_symlink() {
            if fs::metadata(&p).is_err() {
                return Err(format!(
                    "{} -> {} dangles",
                    p.display(),
                    fs::read_link(&p).unwrap().display()
                ));
            }
        } else if m.is_dir() {
            all_links_resolve(&p)?;
        }
    }
    Ok(())
}

struct Scenario {
    ctx: Ctx,
    template: PathBuf,
    args: Vec<&'static str>,
    /// Builds that may be active after a kill (None: inactive).
    allowed: Vec<Option<&'static str>>,
}

impl Scenario {
    /// A fresh copy of the template as the context's root.
    fn reset(&mut self, n: usize) {
        let root = self.ctx.tmp.path().join(format!("run-{n}"));
        assert!(
            Command::new("cp")
                .arg("-a")
                .arg(&self.template)
                .arg(&root)
                .status()
                .unwrap()
                .success()
        );
        self.ctx.root = root;
    }

    /// The invariants after a kill, then repair, then a clean check.
    fn verify_after_kill(&self, what: &str) {
        let root = &self.ctx.root;
        let now = active(root);
        assert!(
            self.allowed.contains(&now.as_deref()),
            "{what}: active build {now:?} is neither old nor new"
        );
        if let Some(id) = &now {
            assert!(
                root.join("gales/pkg")
                    .join(id)
                    .join(".gport/manifest")
                    .is_file(),
                "{what}: {id} incomplete"
            );
        }
        for d in ["usr", "etc"] {
            if let Err(e) = all_links_resolve(&root.join(d)) {
                panic!("{what}: {e}");
            }
        }
        assert_eq!(
            foreign_view(&self.template),
            foreign_view(root),
            "{what}: something outside gport's paths changed"
        );
        self.ctx.ok(&["check", "--repair"]);
        let out = self.ctx.run(&["check"]);
        assert!(
            out.status.success(),
            "{what}: check after repair:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(active(root), now, "{what}: repair changed the active build");
        // The active build's programs run through their links.
        if let Some(id) = now {
            let version = id.trim_start_matches("p-");
            assert_eq!(
                String::from_utf8_lossy(&self.ctx.exec("p", &[]).stdout),
                format!("{version}\n"),
                "{what}"
            );
            let only = if version == "1.0" { "only1" } else { "only2" };
            assert!(
                root.join("usr/bin").join(only).exists(),
                "{what}: {only} missing"
            );
        } else {
            assert!(
                fs::symlink_metadata(root.join("usr/bin/p")).is_err(),
                "{what}: inactive but linked"
            );
        }
    }

    /// Kill at each fault point in turn, then at random moments.
    fn run(mut self, random_kills: usize) {
        // How many points does the operation pass?
        self.reset(0);
        let trace = self.ctx.tmp.path().join("trace");
        let out = self
            .ctx
            .cmd(&self.args)
            .env("GPORT_FAULT_TRACE", &trace)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{:?}: {}",
            self.args,
            String::from_utf8_lossy(&out.stderr)
        );
        let points = fs::read_to_string(&trace).unwrap();
        let n = points.lines().count();
        assert!(n >= 3, "too few fault points in {:?}:\n{points}", self.args);
        for k in 1..=n {
            self.reset(k);
            let out = self
                .ctx
                .cmd(&self.args)
                .env("GPORT_FAULT", k.to_string())
                .output()
                .unwrap();
            assert_eq!(
                out.status.signal(),
                Some(9),
                "{:?} should die at point {k}: {}",
                self.args,
                String::from_utf8_lossy(&out.stderr)
            );
            let name = points.lines().nth(k - 1).unwrap();
            self.verify_after_kill(&format!("{:?} killed at point {name}", self.args));
        }
        // Random moments, including during the build and fetch.
        let mut seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        for i in 0..random_kills {
            self.reset(1000 + i);
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let delay = Duration::from_micros((seed >> 33) % 60_000);
            let mut child = self
                .ctx
                .cmd(&self.args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(delay);
            let _ = child.kill();
            child.wait().unwrap();
            self.verify_after_kill(&format!("{:?} killed after {delay:?}", self.args));
        }
    }
}

/// A context whose root holds an operator's files, and the tree with `p`
/// at 1.0; returns it with the tree directories for 1.0 and 2.0.
fn setup() -> (Ctx, PathBuf, PathBuf) {
    let mut ctx = Ctx::with_own_tree();
    let t1 = ctx.tree.clone();
    port_p(&ctx, "1.0", "only1");
    let t2 = ctx.tmp.path().join("tree2");
    fs::create_dir_all(t2.join("gports")).unwrap();
    ctx.tree = t2.clone();
    port_p(&ctx, "2.0", "only2");
    ctx.tree = t1.clone();
    fs::create_dir_all(ctx.root.join("usr/bin")).unwrap();
    fs::create_dir_all(ctx.root.join("etc")).unwrap();
    fs::write(ctx.root.join("usr/bin/foreign"), "operator's\n").unwrap();
    fs::write(ctx.root.join("etc/live.conf"), "live\n").unwrap();
    (ctx, t1, t2)
}

/// Freeze the context's current root as a template.
fn template(ctx: &Ctx, name: &str) -> PathBuf {
    let t = ctx.tmp.path().join(name);
    assert!(
        Command::new("cp")
            .arg("-a")
            .arg(&ctx.root)
            .arg(&t)
            .status()
            .unwrap()
            .success()
    );
    t
}

#[test]
fn kill_during_first_install() {
    let (ctx, _, _) = setup();
    let template = template(&ctx, "t-empty");
    Scenario {
        ctx,
        template,
        args: vec!["install", "p"],
        allowed: vec![None, Some("p-1.0")],
    }
    .run(8);
}

#[test]
fn kill_during_upgrade() {
    let (mut ctx, _, t2) = setup();
    ctx.ok(&["install", "p"]);
    let template = template(&ctx, "t-v1");
    ctx.tree = t2;
    Scenario {
        ctx,
        template,
        args: vec!["upgrade"],
        allowed: vec![Some("p-1.0"), Some("p-2.0")],
    }
    .run(8);
}

fn with_both_builds() -> (Ctx, PathBuf) {
    let (mut ctx, _, t2) = setup();
    ctx.ok(&["install", "p"]);
    ctx.tree = t2;
    ctx.ok(&["upgrade"]);
    let template = template(&ctx, "t-v1v2");
    (ctx, template)
}

#[test]
fn kill_during_switch() {
    let (ctx, template) = with_both_builds();
    Scenario {
        ctx,
        template,
        args: vec!["switch", "p", "1.0"],
        allowed: vec![Some("p-1.0"), Some("p-2.0")],
    }
    .run(12);
}

#[test]
fn kill_during_rollback() {
    let (ctx, template) = with_both_builds();
    Scenario {
        ctx,
        template,
        args: vec!["rollback"],
        allowed: vec![Some("p-1.0"), Some("p-2.0")],
    }
    .run(8);
}

#[test]
fn kill_during_remove() {
    let (ctx, template) = with_both_builds();
    Scenario {
        ctx,
        template,
        args: vec!["remove", "p"],
        allowed: vec![Some("p-2.0"), None],
    }
    .run(8);
}

#[test]
fn concurrent_mutations_serialize_and_readers_never_miss_a_shared_file() {
    let (mut ctx, template) = with_both_builds();
    ctx.root = template;
    let root = ctx.root.clone();
    // A reader hammers files both builds have while switches run.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let reader = {
        let (stop, root) = (stop.clone(), root.clone());
        std::thread::spawn(move || {
            let (mut reads, mut misses) = (0u64, Vec::new());
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for f in ["usr/bin/p", "usr/share/man/man1/p.1"] {
                    match fs::read(root.join(f)) {
                        Ok(_) => reads += 1,
                        Err(e) => misses.push(format!("{f}: {e}")),
                    }
                }
            }
            (reads, misses)
        })
    };
    for i in 0..20 {
        let v = if i % 2 == 0 { "1.0" } else { "2.0" };
        ctx.ok(&["switch", "p", v]);
    }
    // Two at once: the first holds the lock (slowed at each fault point),
    // the second says it waits, then runs.
    let mut first = ctx
        .cmd(&["switch", "p", "1.0"])
        .env("GPORT_FAULT_SLEEP_MS", "150")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let second = ctx.cmd(&["switch", "p", "2.0"]).output().unwrap();
    assert!(first.wait().unwrap().success());
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (reads, misses) = reader.join().unwrap();
    assert!(
        misses.is_empty(),
        "a reader saw a missing shared file: {misses:?}"
    );
    assert!(reads > 100, "the reader barely ran ({reads} reads)");
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(second.status.success(), "{err}");
    assert!(
        err.contains("waiting for the lock"),
        "the second gport must say it waits:\n{err}"
    );
    assert_eq!(
        active(&root).as_deref(),
        Some("p-2.0"),
        "the second switch ran after the first"
    );
    ctx.ok(&["check"]);
}

#[test]
fn dry_runs_change_nothing() {
    let (mut ctx, template) = with_both_builds();
    ctx.root = template;
    // Make gc and check --repair have something to do.
    fs::remove_file(ctx.root.join("usr/bin/only2")).unwrap();
    let before = snapshot(&ctx.root);
    for args in [
        vec!["-n", "switch", "p", "1.0"],
        vec!["-n", "rollback"],
        vec!["-n", "rollback", "p"],
        vec!["-n", "remove", "p"],
        vec!["-n", "gc"],
        vec!["-n", "upgrade"],
    ] {
        let out = ctx.ok(&args);
        assert!(
            !out.is_empty() || args[1] == "upgrade",
            "{args:?} printed no plan"
        );
        assert_eq!(before, snapshot(&ctx.root), "{args:?} changed the root");
    }
    assert!(
        ctx.ok(&["-n", "switch", "p", "1.0"])
            .starts_with("p: p-2.0 -> p-1.0")
    );
    assert_eq!(ctx.ok(&["-n", "gc"]), "would delete p-1.0\n");
    let out = ctx.run(&["-n", "check", "--repair"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stdout).contains("missing-link"));
    assert_eq!(
        before,
        snapshot(&ctx.root),
        "check --repair -n changed the root"
    );
    ctx.ok(&["check", "--repair"]);
    assert!(ctx.root.join("usr/bin/only2").exists());
}
