//! The one lock: an exclusive `flock` on `ROOT/gales/pkg/.gport/lock`, held
//! by every mutating command for its whole run. A second gport says that it
//! waits instead of hanging silently; read-only commands never take it.

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
        let dir = root.join(STATE_DIR);
        fs::create_dir_all(&dir).at("create", &dir)?;
        let path = dir.join("lock");
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
                    .map_err(|(_, e)| Error::io("lock", &path, e.into()))?
            }
            Err((_, e)) => return Err(Error::io("lock", &path, e.into())),
        };
        Ok(Lock { _flock: flock })
    }
}
