//! The porter's tools: `checksum` (fill in, refuse a change, `--update`),
//! `lint` (every finding, and the real tree passing), and `new` (a skeleton
//! from a tarball served by an independent HTTP server, that lint accepts).

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::http::{Reply, Server};
use common::synth::{E, PortSpec, tarball_gz, write_port};
use common::{Ctx, PyServer, repo, sha256_hex};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `hello` with its sha256 emptied and its size removed (a port being
/// written), plus comments the edit must keep. Returns port.toml's path and
/// the tarball.
fn unsummed(ctx: &Ctx) -> (PathBuf, Vec<u8>) {
    let dir = write_port(ctx, &PortSpec::hello("hello"));
    let tarball = fs::read(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap();
    let path = dir.join("port.toml");
    let text: String = fs::read_to_string(&path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("size"))
        .map(|l| {
            if l.starts_with("sha256") {
                "sha256 = \"\"   # filled in by gport checksum\n".to_string()
            } else if l == "[[source]]" {
                "# The one tarball; keep this comment.\n[[source]]\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    fs::write(&path, text).unwrap();
    (path, tarball)
}

#[test]
fn checksum_fills_in_then_says_ok() {
    let ctx = Ctx::with_own_tree();
    let (path, tarball) = unsummed(&ctx);
    let sha = sha256_hex(&tarball);

    // -n says what it would fill in and writes nothing.
    let before = fs::read(&path).unwrap();
    let out = ctx.ok(&["-n", "checksum", "hello"]);
    assert!(out.contains("would fill in sha256"), "{out}");
    assert_eq!(before, fs::read(&path).unwrap());

    let out = ctx.ok(&["checksum", "hello"]);
    assert!(
        out.contains(&format!(
            "hello-1.0.tar.gz: fill in sha256 {sha}, size {}",
            tarball.len()
        )),
        "{out}"
    );
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("# The one tarball; keep this comment.\n[[source]]\n"));
    assert!(
        text.contains(&format!(
            "sha256 = \"{sha}\"   # filled in by gport checksum\n"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("size = {}\n", tarball.len())),
        "{text}"
    );
    // The port now loads and builds on its recorded checksum.
    ctx.ok(&["fetch", "hello"]);

    let after = fs::read(&path).unwrap();
    let out = ctx.ok(&["checksum", "hello"]);
    assert_eq!(out, "hello-1.0.tar.gz: ok\n");
    assert_eq!(
        after,
        fs::read(&path).unwrap(),
        "a second run changes nothing"
    );
}

#[test]
fn checksum_refuses_a_changed_file_unless_update() {
    let ctx = Ctx::with_own_tree();
    let dir = write_port(&ctx, &PortSpec::hello("hello"));
    let path = dir.join("port.toml");
    let old = fs::read(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap();
    // Upstream "re-rolled" the tarball.
    let new = tarball_gz(&[
        E::Dir("src/"),
        E::File("src/hello.sh", b"#!/bin/sh\necho re-rolled\n", 0o644),
    ]);
    fs::write(ctx.distfiles.join("hello-1.0.tar.gz"), &new).unwrap();
    let (old_sha, new_sha) = (sha256_hex(&old), sha256_hex(&new));
    let arrow = format!(
        "hello-1.0.tar.gz: sha256 {old_sha} -> {new_sha}, size {} -> {}",
        old.len(),
        new.len()
    );

    let before = fs::read(&path).unwrap();
    let err = ctx.fails(&["checksum", "hello"]);
    assert!(err.contains("no longer matches the checksum"), "{err}");
    assert!(err.contains(&arrow), "{err}");
    assert!(err.contains("--update"), "{err}");
    assert_eq!(before, fs::read(&path).unwrap(), "port.toml byte-identical");

    let out = ctx.ok(&["-n", "checksum", "--update", "hello"]);
    assert!(out.contains(&format!("would update {arrow}")), "{out}");
    assert_eq!(before, fs::read(&path).unwrap());

    let out = ctx.ok(&["checksum", "--update", "hello"]);
    assert!(out.contains(&format!("update {arrow}")), "{out}");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(&format!("sha256 = \"{new_sha}\"")), "{text}");
    assert!(text.contains(&format!("size = {}", new.len())), "{text}");
    assert_eq!(ctx.ok(&["checksum", "hello"]), "hello-1.0.tar.gz: ok\n");
}

#[test]
fn checksum_downloads_what_the_store_lacks() {
    let ctx = Ctx::with_own_tree();
    let (path, tarball) = unsummed(&ctx);
    fs::remove_file(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap();
    let server = Server::start();
    server.set("hello-1.0.tar.gz", Reply::Body(tarball.clone()));
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("http://127.0.0.1:9", &server.url);
    fs::write(&path, text).unwrap();

    // -n does not download.
    let out = ctx.ok(&["-n", "checksum", "hello"]);
    assert!(out.contains("not in the store"), "{out}");
    assert!(!ctx.distfiles.join("hello-1.0.tar.gz").exists());

    ctx.ok(&["checksum", "hello"]);
    assert_eq!(
        fs::read(ctx.distfiles.join("hello-1.0.tar.gz")).unwrap(),
        tarball
    );
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains(&sha256_hex(&tarball)), "{text}");
    // Only the named file is left in the store: no temporary debris.
    let names: Vec<_> = fs::read_dir(&ctx.distfiles)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.starts_with(".mirrors"))
        .collect();
    assert_eq!(names, ["hello-1.0.tar.gz"]);
}

/// `hello` rewritten to use https, so it has nothing to warn about.
fn clean_port(ctx: &Ctx, name: &str) -> PathBuf {
    let dir = write_port(ctx, &PortSpec::hello(name));
    let path = dir.join("port.toml");
    let text = fs::read_to_string(&path)
        .unwrap()
        .replace("http://127.0.0.1:9", "https://example.org/dist");
    fs::write(&path, text).unwrap();
    dir
}

#[test]
fn lint_passes_a_clean_port() {
    let ctx = Ctx::with_own_tree();
    clean_port(&ctx, "hello");
    let out = ctx.run(&["lint", "hello"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "no findings");
}

#[test]
fn lint_reports_every_finding() {
    let ctx = Ctx::with_own_tree();
    clean_port(&ctx, "good");
    let mut bad = PortSpec::hello("bad");
    bad.build = "if then\n";
    bad.depends = &["nosuch"];
    let dir = write_port(&ctx, &bad);
    fs::write(dir.join("notes.txt"), "scratch\n").unwrap();

    // A listed patch that is missing: the loader's error, with its location.
    let broken = clean_port(&ctx, "broken");
    let mut toml = fs::read_to_string(broken.join("port.toml")).unwrap();
    toml.push_str("\n[[patch]]\nfile = \"missing.patch\"\n");
    fs::write(broken.join("port.toml"), toml).unwrap();

    // A patch without its DEP-3 header.
    let mut undocumented = PortSpec::hello("undocumented");
    undocumented.patch = Some(
        "--- a/hello.sh\n+++ b/hello.sh\n@@ -1,2 +1,2 @@\n #!/bin/sh\n-echo hello\n+echo hi\n",
    );
    let u = write_port(&ctx, &undocumented);
    let text = fs::read_to_string(u.join("port.toml"))
        .unwrap()
        .replace("http://127.0.0.1:9", "https://example.org");
    fs::write(u.join("port.toml"), text).unwrap();

    let out = ctx.run(&["lint"]);
    let (o, e) = (stdout(&out), stderr(&out));
    assert!(!out.status.success(), "{o}{e}");
    assert!(e.contains("error: lint found 3 errors"), "{e}");
    let lines: Vec<&str> = o.lines().collect();
    let has = |prefix: &str, needle: &str| {
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with(prefix) && l.contains(needle)),
            "no {prefix}... {needle:?} in:\n{o}"
        )
    };
    has("bad: error: ", "sh -n: ");
    has("bad: error: ", "unexpected");
    has(
        "bad: error: ",
        "depends: 'nosuch' is not a port of the tree",
    );
    has("bad: warning: ", "unused file notes.txt");
    has(
        "bad: warning: ",
        "source URL 'http://127.0.0.1:9/bad-1.0.tar.gz' is not https",
    );
    has("broken: error: ", "port.toml:17:8: ");
    has("broken: error: ", "missing.patch does not exist");
    has(
        "undocumented: warning: ",
        "patches/fix.patch: DEP-3 header lacks Description, Origin, Forwarded or Applied-Upstream",
    );
    assert!(!o.contains("good:"), "{o}");
    assert_eq!(lines.len(), 6, "{o}");

    // Naming ports limits the check; an unknown name is refused.
    let out = ctx.run(&["lint", "good", "undocumented"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ctx.fails(&["lint", "god"]).contains("did you mean 'good'?"));
}

#[test]
fn lint_passes_the_real_tree() {
    let ctx = Ctx::new(&repo());
    let out = ctx.run(&["lint"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(!stdout(&out).contains(": error: "), "{}", stdout(&out));
}

/// A tiny autotools-looking project, as its release tarball.
fn autotools_tarball() -> Vec<u8> {
    tarball_gz(&[
        E::Dir("foo-1.2.3/"),
        E::File(
            "foo-1.2.3/configure",
            b"#!/bin/sh\necho \"prefix=$1\" > config.status\n",
            0o755,
        ),
        E::File(
            "foo-1.2.3/Makefile",
            b"all:\n\techo built\ninstall:\n\tmkdir -p $(DESTDIR)\n",
            0o644,
        ),
    ])
}

#[test]
fn new_writes_a_skeleton_lint_accepts() {
    let ctx = Ctx::with_own_tree();
    let served = ctx.tmp.path().join("served");
    fs::create_dir_all(&served).unwrap();
    let tarball = autotools_tarball();
    fs::write(served.join("foo-1.2.3.tar.gz"), &tarball).unwrap();
    let server = PyServer::start(&served);
    let url = format!("{}/foo-1.2.3.tar.gz", server.1);
    let dir = ctx.tree.join("gports/foo");

    // -n: the plan, and nothing written or downloaded.
    let out = ctx.ok(&["-n", "new", "foo", &url]);
    assert!(out.contains("version 1.2.3"), "{out}");
    assert!(out.contains(&format!("would write {}", dir.join("port.toml").display())));
    assert!(!dir.exists());
    assert!(!ctx.distfiles.join("foo-1.2.3.tar.gz").exists());

    let out = ctx.ok(&["new", "foo", &url]);
    assert_eq!(
        out,
        format!(
            "{}\n{}\n",
            dir.join("port.toml").display(),
            dir.join("build.sh").display()
        )
    );
    assert_eq!(
        fs::read(ctx.distfiles.join("foo-1.2.3.tar.gz")).unwrap(),
        tarball
    );
    let toml = fs::read_to_string(dir.join("port.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&toml).unwrap();
    assert_eq!(doc["version"].as_str(), Some("1.2.3"), "{toml}");
    let src = &doc["source"][0];
    assert_eq!(src["sha256"].as_str(), Some(sha256_hex(&tarball).as_str()));
    assert_eq!(src["size"].as_integer(), Some(tarball.len() as i64));
    assert_eq!(src["urls"][0].as_str(), Some(url.as_str()));
    assert!(src.get("file").is_none(), "{toml}");
    assert_eq!(
        doc["homepage"].as_str(),
        Some(format!("{}/", server.1).as_str())
    );
    let script = fs::read_to_string(dir.join("build.sh")).unwrap();
    assert!(
        script.contains("./configure --prefix=\"$PREFIX\" --disable-shared --enable-static"),
        "{script}"
    );
    assert!(
        script.contains("make DESTDIR=\"$DESTDIR\" install"),
        "{script}"
    );
    // No leftovers of the assembly in the tree or the work area.
    let hidden = |d: &Path| {
        fs::read_dir(d)
            .map(|r| {
                r.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with('.')
                })
                .count()
            })
            .unwrap_or(0)
    };
    assert_eq!(hidden(&ctx.tree.join("gports")), 0);
    assert_eq!(hidden(&ctx.work), 0);

    // Lint accepts it, with warnings for what is left to fill in.
    let out = ctx.run(&["lint", "foo"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    let o = stdout(&out);
    assert!(
        o.contains("foo: warning: `summary` is still a placeholder"),
        "{o}"
    );
    assert!(
        o.contains("foo: warning: `license` is still a placeholder"),
        "{o}"
    );
    assert!(!o.contains("error"), "{o}");
    // It is a real port: it loads, and checksum agrees with it.
    assert_eq!(ctx.ok(&["checksum", "foo"]), "foo-1.2.3.tar.gz: ok\n");

    // An existing port is never overwritten.
    let before = fs::read(dir.join("port.toml")).unwrap();
    let err = ctx.fails(&["new", "foo", &url]);
    assert!(err.contains("port 'foo' already exists"), "{err}");
    assert_eq!(before, fs::read(dir.join("port.toml")).unwrap());
}

#[test]
fn new_names_tag_archives_and_marks_what_it_cannot_guess() {
    let ctx = Ctx::with_own_tree();
    let served = ctx.tmp.path().join("served");
    fs::create_dir_all(served.join("archive")).unwrap();
    // A tag archive with only a CMakeLists.txt, and an archive without a
    // version in its name or a build system.
    let cmake = tarball_gz(&[
        E::Dir("bar-2.0/"),
        E::File("bar-2.0/CMakeLists.txt", b"project(bar C)\n", 0o644),
    ]);
    fs::write(served.join("archive/v2.0.tar.gz"), &cmake).unwrap();
    let bare = tarball_gz(&[E::Dir("src/"), E::File("src/x.c", b"int main(){}\n", 0o644)]);
    fs::write(served.join("snapshot.tar.gz"), &bare).unwrap();
    let server = PyServer::start(&served);

    ctx.ok(&["new", "bar", &format!("{}/archive/v2.0.tar.gz", server.1)]);
    let toml = fs::read_to_string(ctx.tree.join("gports/bar/port.toml")).unwrap();
    assert!(toml.contains("version  = \"2.0\""), "{toml}");
    assert!(toml.contains("file   = \"bar-2.0.tar.gz\""), "{toml}");
    assert!(ctx.distfiles.join("bar-2.0.tar.gz").is_file());
    let script = fs::read_to_string(ctx.tree.join("gports/bar/build.sh")).unwrap();
    assert!(script.contains("-DBUILD_SHARED_LIBS=OFF"), "{script}");

    ctx.ok(&["new", "baz", &format!("{}/snapshot.tar.gz", server.1)]);
    let toml = fs::read_to_string(ctx.tree.join("gports/baz/port.toml")).unwrap();
    assert!(toml.contains("version  = \"0\"    # TODO"), "{toml}");
    let script = fs::read_to_string(ctx.tree.join("gports/baz/build.sh")).unwrap();
    assert!(script.contains("TODO: write the build"), "{script}");
    let out = ctx.run(&["lint", "bar", "baz"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    // Bad arguments are usage errors (exit 2), with nothing written.
    let out = ctx.run(&["new", "Bad", "https://example.org/x.tar.gz"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = ctx.run(&["new", "qux", "file:///tmp/x.tar.gz"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!ctx.tree.join("gports/qux").exists());
}
