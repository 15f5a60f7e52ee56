//! The one lock: an exclusive `flock` on `ROOT/gales/pkg/.gport/lock`, held
//! by every mutating command for its whole run. A second gport says that it
//! waits instead of hanging silently; read-only commands never take it.
//!
//! The same mechanism guards a build's work dir, which lives outside the
//! root and may be shared by gports working on different roots.

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, IoContext, Result};
use crate::store::STATE_DIR;

pub struct Lock {
    _flock: Flock<File>,
}

impl Lock {
    /// Take the lock for `root`, waiting (and saying so) if another gport
    /// holds it. `announce` receives the waiting message.
    pub fn acquire(root: &Path, announce: impl Fn(&str)) -> Result<Lock> {
        Self::acquire_file(&root.join(STATE_DIR).join("lock"), announce)
    }

    /// Take an exclusive lock on the file `path` (created, with its parent
    /// directories, if missing).
    pub fn acquire_file(path: &Path, announce: impl Fn(&str)) -> Result<Lock> {
        let dir = crate::atomic::parent(path);
        fs::create_dir_all(dir).at("create", dir)?;
        let open = || {
            OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .at("open the lock file", &path)
        };
        let flock = match Flock::lock(open()?, FlockArg::LockExclusiveNonblock) {
            Ok(l) => l,
            Err((file, Errno::EWOULDBLOCK)) => {
                announce(&format!(
                    "waiting for the lock on {} (another gport is running)",
                    path.display()
                ));
                Flock::lock(file, FlockArg::LockExclusive)
                    .map_err(|(_, e)| Error::io("lock", path, e.into()))?
            }
            Err((_, e)) => return Err(Error::io("lock", path, e.into())),
        };
        Ok(Lock { _flock: flock })
    }
}
