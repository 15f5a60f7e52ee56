//! What the operator sees while gport works: status lines and progress bars
//! on stderr (stdout carries data only).
//!
//! Bars are drawn only when stderr is a terminal, never with `-q` or a
//! `--json` listing, and are cleared when done so the screen keeps only
//! the status lines. gport uses no colour, so `NO_COLOR` has nothing to
//! turn off.

use std::io::{IsTerminal, Read};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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

/// Should progress be drawn at all?
pub fn progress_enabled(settings: &Settings) -> bool {
    settings.progress && !settings.quiet && std::io::stderr().is_terminal()
}

/// A progress bar, or nothing when progress is not drawn.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A byte-counting bar for `total` bytes.
    pub fn bytes(settings: &Settings, total: u64, msg: &str) -> Progress {
        if !progress_enabled(settings) {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "    {msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar.set_message(msg.to_string());
        Progress(Some(bar))
    }

    /// A spinner with elapsed time, for work of unknown length (builds).
    pub fn spinner(settings: &Settings, msg: &str) -> Progress {
        if !progress_enabled(settings) {
            return Progress(None);
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("    {spinner} {msg} {elapsed}").expect("valid template"),
        );
        bar.set_message(msg.to_string());
        bar.enable_steady_tick(Duration::from_millis(200));
        Progress(Some(bar))
    }

    /// No bar.
    pub fn none() -> Progress {
        Progress(None)
    }

    /// A reader that advances this bar, owning a handle to it (it may move
    /// to another thread).
    pub fn owned_reader<R: Read>(&self, inner: R) -> OwnedProgressRead<R> {
        OwnedProgressRead {
            inner,
            bar: self.0.clone(),
        }
    }

    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }

    /// Wrap a reader so that what passes through advances the bar.
    pub fn reader<R: Read>(&self, inner: R) -> ProgressRead<'_, R> {
        ProgressRead {
            inner,
            progress: self,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

pub struct ProgressRead<'a, R> {
    inner: R,
    progress: &'a Progress,
}

impl<R: Read> Read for ProgressRead<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.inc(n as u64);
        Ok(n)
    }
}

pub struct OwnedProgressRead<R> {
    inner: R,
    bar: Option<ProgressBar>,
}

impl<R: Read> Read for OwnedProgressRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}
