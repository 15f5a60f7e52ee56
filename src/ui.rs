//! Status lines for the operator, on stderr (stdout carries data only).
//!
//! Kept deliberately small; progress bars come with the reporter work.

use crate::config::Settings;

/// A step of the work: `==> fetching lua-5.4.4.tar.gz`. Hidden with `-q`.
pub fn status(settings: &Settings, msg: &str) {
    if !settings.quiet {
        eprintln!("==> {msg}");
    }
}

/// Detail shown with `-v`.
pub fn detail(settings: &Settings, msg: &str) {
    if settings.verbose > 0 && !settings.quiet {
        eprintln!("    {msg}");
    }
}

/// Something went wrong but the work goes on (another location is tried).
pub fn warn(settings: &Settings, msg: &str) {
    if !settings.quiet {
        eprintln!("warning: {msg}");
    }
}
