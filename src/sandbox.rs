//! The build sandbox: a build script is code from the internet, run on the
//! operator's machine. It runs in new user, mount, network, IPC and UTS
//! namespaces where
//!
//! - every mount of the host is read-only (the root, `ROOT/gales/pkg`, the
//!   tree, the distfiles), except `/proc`, `/sys` and `/dev`, which are left
//!   as they are (`/dev/null` must stay writable);
//! - `/tmp` and `/dev/shm` are private, empty tmpfs;
//! - the build's work dir (source, `DESTDIR`, `HOME`, `TMPDIR`) is the only
//!   writable host directory; the port dir and the dependencies' builds are
//!   bound read-only at their own paths (they may live under `/tmp`);
//! - `/root` and `/home` are hidden behind empty read-only tmpfs;
//! - the network namespace has only a loopback interface, down: nothing is
//!   reachable, not even the host's 127.0.0.1;
//! - the script runs as uid 0 *of its namespace* (the caller's uid outside)
//!   with every capability dropped and `no_new_privs` set.
//!
//! All the data the child needs is prepared in the parent: between fork and
//! exec the child only makes system calls (no allocation).

use std::ffi::CString;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::statvfs::{FsFlags, statvfs};

/// Mount points whose contents are left as the host has them.
const LEFT_ALONE: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Directories hidden from builds (the operator's secrets live there).
const HIDDEN: [&str; 2] = ["/root", "/home"];

/// File descriptors the child parks directory handles on (far above what
/// a fresh process uses).
const FIRST_FD: i32 = 900;

struct Bind {
    path: CString,
    /// `/proc/self/fd/N`: the child opens the directory inside its new
    /// mount namespace (a bind from another namespace is refused), parks
    /// the handle on fd N, and binds from it after a tmpfs covered the path.
    source: CString,
    fd: i32,
    writable: bool,
    /// The flags its mount already has (kept on the remount: in a user
    /// namespace they are locked), plus nosuid and nodev.
    flags: MsFlags,
}

pub struct Sandbox {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
    read_only: Vec<(CString, MsFlags)>,
    /// Directories to create in the private /tmp for binds below it.
    mkdirs: Vec<CString>,
    binds: Vec<Bind>,
    hide: Vec<CString>,
    /// The working directory, entered again once the binds are in place
    /// (the process changed into it before, through the host's mount).
    cwd: CString,
}

fn cstr(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path with NUL"))
}

/// Undo mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 4], 8) {
                out.push(v);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The mount flags a bind remount must keep (in a user namespace they are
/// locked, and dropping one is refused).
fn locked_flags(path: &Path) -> MsFlags {
    let Ok(st) = statvfs(path) else {
        return MsFlags::empty();
    };
    let f = st.flags();
    let mut m = MsFlags::empty();
    for (s, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if f.contains(s) {
            m |= ms;
        }
    }
    m
}

impl Sandbox {
    /// Prepare a sandbox in which `writable` directories may be written and
    /// `readable` ones read (both at their host paths).
    pub fn new(writable: &[&Path], readable: &[&Path], cwd: &Path) -> io::Result<Sandbox> {
        let uid = nix::unistd::geteuid();
        let gid = nix::unistd::getegid();
        let mut read_only = Vec::new();
        for line in std::fs::read_to_string("/proc/self/mountinfo")?.lines() {
            let Some(mp) = line.split(' ').nth(4).map(unescape) else {
                continue;
            };
            let p = PathBuf::from(&mp);
            if LEFT_ALONE.iter().any(|a| p.starts_with(a)) || p.starts_with("/tmp") {
                continue;
            }
            let entry = (cstr(&p)?, locked_flags(&p));
            if !read_only.contains(&entry) {
                read_only.push(entry);
            }
        }
        // Parents before children, so a remount does not undo a deeper one.
        read_only.sort_by_key(|(p, _)| p.as_bytes().len());

        let mut mkdirs = Vec::new();
        let mut binds = Vec::new();
        for (dirs, writable) in [(writable, true), (readable, false)] {
            for d in dirs {
                let d = std::fs::canonicalize(d)?;
                if d.starts_with("/tmp") {
                    for a in d.ancestors().collect::<Vec<_>>().into_iter().rev() {
                        if a.starts_with("/tmp") && a != Path::new("/tmp") {
                            let c = cstr(a)?;
                            if !mkdirs.contains(&c) {
                                mkdirs.push(c);
                            }
                        }
                    }
                }
                let flags = locked_flags(&d) | MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
                binds.push(Bind {
                    path: cstr(&d)?,
                    source: CString::default(),
                    fd: 0,
                    writable,
                    flags,
                });
            }
        }
        // Readable binds first, so a writable dir inside one stays writable.
        binds.sort_by_key(|b| (b.writable, b.path.as_bytes().len()));
        for (i, b) in binds.iter_mut().enumerate() {
            b.fd = FIRST_FD + i as i32;
            b.source = CString::new(format!("/proc/self/fd/{}", b.fd)).expect("no NUL");
        }
        let covers_a_bind = |h: &Path| {
            binds
                .iter()
                .any(|b| Path::new(std::ffi::OsStr::from_bytes(b.path.as_bytes())).starts_with(h))
        };
        let hide = HIDDEN
            .iter()
            .map(Path::new)
            .filter(|h| h.is_dir() && !covers_a_bind(h))
            .map(cstr)
            .collect::<io::Result<_>>()?;
        Ok(Sandbox {
            uid_map: format!("0 {uid} 1\n").into_bytes(),
            gid_map: format!("0 {gid} 1\n").into_bytes(),
            read_only,
            mkdirs,
            binds,
            hide,
            cwd: cstr(cwd)?,
        })
    }

    /// Make `cmd` run inside this sandbox.
    pub fn apply(self: &Arc<Self>, cmd: &mut Command) {
        let me = Arc::clone(self);
        // SAFETY: `enter` only makes system calls on data prepared before
        // the fork; it allocates nothing and takes no locks.
        unsafe {
            cmd.pre_exec(move || me.enter());
        }
    }

    fn enter(&self) -> io::Result<()> {
        let e = |r: nix::Result<()>| r.map_err(io::Error::from);
        e(unshare(
            CloneFlags::CLONE_NEWUSER
                | CloneFlags::CLONE_NEWNS
                | CloneFlags::CLONE_NEWNET
                | CloneFlags::CLONE_NEWIPC
                | CloneFlags::CLONE_NEWUTS,
        ))?;
        write_proc(c"/proc/self/setgroups", b"deny")?;
        write_proc(c"/proc/self/uid_map", &self.uid_map)?;
        write_proc(c"/proc/self/gid_map", &self.gid_map)?;
        let none: Option<&str> = None;
        e(mount(
            none,
            c"/",
            none,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            none,
        ))?;
        for (mp, flags) in &self.read_only {
            e(mount(
                none,
                mp.as_c_str(),
                none,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | *flags,
                none,
            ))?;
        }
        // Handles on the directories to bind, taken before /tmp is covered.
        for b in &self.binds {
            let fd = nix::fcntl::open(
                b.path.as_c_str(),
                nix::fcntl::OFlag::O_PATH | nix::fcntl::OFlag::O_DIRECTORY,
                nix::sys::stat::Mode::empty(),
            )?;
            // SAFETY: dup2 onto a free, fixed descriptor number.
            if unsafe { nix::libc::dup2(fd.as_raw_fd(), b.fd) } < 0 {
                return Err(io::Error::last_os_error());
            }
        }
        let tmpfs = |at: &std::ffi::CStr, flags: MsFlags, data: &std::ffi::CStr| {
            mount(Some(c"tmpfs"), at, Some(c"tmpfs"), flags, Some(data))
        };
        let private = MsFlags::MS_NOSUID | MsFlags::MS_NODEV;
        e(tmpfs(c"/tmp", private, c"mode=1777"))?;
        if Path::new("/dev/shm").is_dir() {
            e(tmpfs(c"/dev/shm", private, c"mode=1777"))?;
        }
        for d in &self.mkdirs {
            match nix::unistd::mkdir(
                d.as_c_str(),
                nix::sys::stat::Mode::from_bits_truncate(0o755),
            ) {
                Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                Err(err) => return Err(err.into()),
            }
        }
        for b in &self.binds {
            e(mount(
                Some(b.source.as_c_str()),
                b.path.as_c_str(),
                none,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                none,
            ))?;
            let rw = if b.writable {
                MsFlags::empty()
            } else {
                MsFlags::MS_RDONLY
            };
            e(mount(
                none,
                b.path.as_c_str(),
                none,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | rw | b.flags,
                none,
            ))?;
        }
        for b in &self.binds {
            // SAFETY: closing the descriptor parked above.
            unsafe { nix::libc::close(b.fd) };
        }
        for h in &self.hide {
            e(tmpfs(h.as_c_str(), MsFlags::MS_RDONLY | private, c"size=0"))?;
        }
        e(nix::unistd::chdir(self.cwd.as_c_str()))?;
        e(nix::sys::prctl::set_no_new_privs())?;
        drop_capabilities()
    }
}

fn write_proc(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
    let fd = nix::fcntl::open(
        path,
        nix::fcntl::OFlag::O_WRONLY,
        nix::sys::stat::Mode::empty(),
    )?;
    nix::unistd::write(&fd, data)?;
    Ok(())
}

/// Drop every capability (effective, permitted, inheritable).
fn drop_capabilities() -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const VERSION_3: u32 = 0x2008_0522;
    let header = Header {
        version: VERSION_3,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: capset with a valid version-3 header and two data words.
    let r = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_capset,
            &header as *const Header,
            data.as_ptr(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Can this machine create the namespaces? Err with the reason if not.
pub fn probe() -> Result<(), String> {
    #[cfg(debug_assertions)]
    if std::env::var_os("GPORT_SANDBOX_PROBE_FAIL").is_some() {
        return Err(
            "user namespaces are unavailable (simulated by GPORT_SANDBOX_PROBE_FAIL)".into(),
        );
    }
    let mut cmd = Command::new("/bin/true");
    // SAFETY: unshare is a plain system call.
    unsafe {
        cmd.pre_exec(|| {
            unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWNET)
                .map_err(io::Error::from)
        });
    }
    match cmd.status() {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(format!("a test process in new namespaces failed ({s})")),
        Err(e) => Err(format!(
            "cannot create user, mount and network namespaces ({e}); user namespaces may be disabled (see /proc/sys/user/max_user_namespaces and kernel.unprivileged_userns_clone)"
        )),
    }
}
