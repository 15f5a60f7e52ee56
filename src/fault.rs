//! Fault-injection points for crash-safety tests, compiled into debug (and
//! so test) builds only; release builds carry no trace of them.
//!
//! Each mutating step calls [`point`] with a name. With `GPORT_FAULT=N`, the
//! process kills itself with SIGKILL at the N-th point it reaches — exactly
//! what `kill -9` or a power cut does between two steps. With
//! `GPORT_FAULT_TRACE=FILE`, each point's name is appended to FILE, so a
//! test learns how many points an operation passes. `GPORT_FAULT_SLEEP_MS`
//! pauses at every point, widening the windows for concurrency tests.

/// A place where gport may be killed in tests.
#[inline]
pub fn point(name: &str) {
    #[cfg(debug_assertions)]
    imp::point(name);
    #[cfg(not(debug_assertions))]
    let _ = name;
}

#[cfg(debug_assertions)]
mod imp {
    use std::io::Write;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static REACHED: AtomicUsize = AtomicUsize::new(0);

    pub fn point(name: &str) {
        let n = REACHED.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(path) = std::env::var("GPORT_FAULT_TRACE") {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
            {
                let _ = writeln!(f, "{n}\t{name}");
            }
        }
        if let Some(ms) = std::env::var("GPORT_FAULT_SLEEP_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        if std::env::var("GPORT_FAULT")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            == Some(n)
        {
            let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGKILL);
        }
    }
}
