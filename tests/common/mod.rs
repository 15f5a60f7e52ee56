//! Shared test context: a temporary root, work dir and distfiles store, the
//! gport binary, and a full snapshot of a root for before/after comparison.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};

pub mod http;
pub mod synth;

pub struct Ctx {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub work: PathBuf,
    pub distfiles: PathBuf,
    pub tree: PathBuf,
}

/// The seeded store of real upstream tarballs (see mirror/seed).
pub fn real_distfiles() -> PathBuf {
    let d = PathBuf::from(
        std::env::var("GPORT_DISTFILES").unwrap_or_else(|_| "/var/cache/gport/distfiles".into()),
    );
    assert!(
        d.join("lua-5.4.4.tar.gz").is_file(),
        "the distfiles store {} is not seeded: run mirror/seed (tests/run.sh does)",
        d.display()
    );
    d
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

impl Ctx {
    /// A context with its own empty distfiles store and the given tree.
    pub fn new(tree: &Path) -> Ctx {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("root");
        let work = tmp.path().join("work");
        let distfiles = tmp.path().join("distfiles");
        for d in [&root, &work, &distfiles] {
            fs::create_dir_all(d).unwrap();
        }
        Ctx {
            root,
            work,
            distfiles,
            tree: tree.to_path_buf(),
            tmp,
        }
    }

    /// A context whose tree is an empty directory inside it, for tests that
    /// write their own ports.
    pub fn with_own_tree() -> Ctx {
        let mut c = Ctx::new(Path::new("/nonexistent"));
        c.tree = c.tmp.path().join("tree");
        fs::create_dir_all(c.tree.join("gports")).unwrap();
        c
    }

    /// The repository's real tree, reading the seeded store.
    pub fn real() -> Ctx {
        let mut c = Ctx::new(&repo());
        c.distfiles = real_distfiles();
        c
    }

    pub fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_gport"));
        c.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .arg("--root")
            .arg(&self.root)
            .arg("--tree")
            .arg(&self.tree)
            .arg("--workdir")
            .arg(&self.work)
            .arg("--distfiles")
            .arg(&self.distfiles)
            .args(args);
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    /// Run and require success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "gport {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Run and require failure; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "gport {args:?} unexpectedly succeeded:\n{err}"
        );
        err
    }

    /// Run a program from the root's /usr/bin (through its link).
    pub fn exec(&self, prog: &str, args: &[&str]) -> Output {
        Command::new(self.root.join("usr/bin").join(prog))
            .args(args)
            .output()
            .unwrap()
    }
}

/// Every path under `root` with type, mode, size and content hash (or link
/// target): two equal snapshots mean the trees are byte-for-byte equal.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = fs::symlink_metadata(&path).unwrap();
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        let mode = meta.permissions().mode() & 0o7777;
        let desc = if meta.file_type().is_symlink() {
            format!("l {}", fs::read_link(&path).unwrap().display())
        } else if meta.is_dir() {
            walk(root, &path, out);
            format!("d {mode:o}")
        } else {
            let data = fs::read(&path).unwrap();
            format!(
                "f {mode:o} {} {} mtime={}",
                data.len(),
                sha256_hex(&data),
                meta.mtime()
            )
        };
        out.insert(rel, desc);
    }
}

/// Is this an ELF executable without a program interpreter (fully static)?
pub fn is_static_elf(path: &Path) -> bool {
    let data = fs::read(path).unwrap();
    if data.len() < 64 || &data[..4] != b"\x7fELF" || data[4] != 2 {
        return false;
    }
    let u16_at = |o: usize| u16::from_le_bytes([data[o], data[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
    let phoff = u64::from_le_bytes(data[32..40].try_into().unwrap()) as usize;
    let (phentsize, phnum) = (u16_at(54), u16_at(56));
    // PT_INTERP = 3, PT_DYNAMIC = 2: a static executable has neither.
    (0..phnum).all(|i| !matches!(u32_at(phoff + i * phentsize), 2 | 3))
}

pub fn sha256_hex(data: &[u8]) -> String {
    gport::hash::to_hex(&Sha256::digest(data))
}

/// `python3 -m http.server` on a free loopback port, serving `dir`: an
/// HTTP server gport's authors did not write. `.1` is its base URL.
pub struct PyServer(pub Child, pub String);

impl PyServer {
    pub fn start(dir: &Path) -> PyServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                "127.0.0.1",
                &port.to_string(),
            ])
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        PyServer(child, format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
