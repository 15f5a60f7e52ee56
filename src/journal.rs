//! The journal: an append-only record of transactions, for `history` and
//! `rollback`. It is never read to learn the state — the pointers and links
//! are the state — so deleting it loses history only.
//!
//! `ROOT/gales/pkg/.gport/journal`, one tab-separated record a line, each
//! appended and fdatasync'd before gport goes on:
//!
//! ```text
//! begin   7   1795290000  -   install lua      (tx, unix time, tx it undoes or -, command)
//! switch  7   lua         lua-5.4.4   lua-5.4.6   (package, from or -, to or -)
//! commit  7
//! abort   7                                        (check --repair closed an interrupted tx)
//! ```
//!
//! A line that does not parse (a record torn by a power cut) is skipped.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::atomic::fsync_dir;
use crate::error::{IoContext, Result};
use crate::fault;
use crate::store::STATE_DIR;

/// One package's pointer change.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Switch {
    pub name: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum End {
    Committed,
    /// Killed or failed before its end; `check` reports it.
    Interrupted,
    /// Ended by an error part-way, or closed by `check --repair` after a kill.
    Aborted,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Transaction {
    pub id: u64,
    pub time: u64,
    pub undo_of: Option<u64>,
    pub command: String,
    pub switches: Vec<Switch>,
    pub end: End,
}

pub fn path(root: &Path) -> PathBuf {
    root.join(STATE_DIR).join("journal")
}

/// Every transaction recorded, oldest first.
pub fn read(root: &Path) -> Result<Vec<Transaction>> {
    let p = path(root);
    let text = match fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::error::Error::io("read", &p, e)),
    };
    let mut txs: Vec<Transaction> = Vec::new();
    let opt = |s: &str| (s != "-").then(|| s.to_string());
    for line in text.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let Some(id) = f.get(1).and_then(|v| v.parse::<u64>().ok()) else {
            continue;
        };
        let tx = txs.iter_mut().rev().find(|t| t.id == id);
        match (f[0], f.len(), tx) {
            ("begin", 5, None) => txs.push(Transaction {
                id,
                time: f[2].parse().unwrap_or(0),
                undo_of: f[3].parse().ok(),
                command: f[4].to_string(),
                switches: Vec::new(),
                end: End::Interrupted,
            }),
            ("switch", 5, Some(tx)) => tx.switches.push(Switch {
                name: f[2].into(),
                from: opt(f[3]),
                to: opt(f[4]),
            }),
            ("commit", 2, Some(tx)) => tx.end = End::Committed,
            ("abort", 2, Some(tx)) => tx.end = End::Aborted,
            _ => {}
        }
    }
    Ok(txs)
}

/// An open transaction. Dropping it without [`Tx::commit`] leaves it
/// interrupted in the journal, which is the truth.
pub struct Tx {
    file: File,
    path: PathBuf,
    pub id: u64,
}

impl Tx {
    /// Start a transaction for `command` (the caller holds the lock).
    pub fn begin(root: &Path, command: &str, undo_of: Option<u64>) -> Result<Tx> {
        let p = path(root);
        let id = read(root)?.last().map_or(1, |t| t.id + 1);
        let existed = p.exists();
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .at("open the journal", &p)?;
        if !existed {
            fsync_dir(crate::atomic::parent(&p))?;
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let undo = undo_of.map_or("-".to_string(), |u| u.to_string());
        let command = command.replace(['\t', '\n'], " ");
        let mut tx = Tx { file, path: p, id };
        tx.append(&format!("begin\t{id}\t{now}\t{undo}\t{command}"))?;
        fault::point("journal:begun");
        Ok(tx)
    }

    /// Record a pointer change that has just been made durable.
    pub fn switched(&mut self, s: &Switch) -> Result<()> {
        let d = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        let line = format!(
            "switch\t{}\t{}\t{}\t{}",
            self.id,
            s.name,
            d(&s.from),
            d(&s.to)
        );
        self.append(&line)?;
        fault::point("journal:switched");
        Ok(())
    }

    pub fn commit(mut self) -> Result<()> {
        let line = format!("commit\t{}", self.id);
        self.append(&line)
    }

    /// End a transaction that failed part-way (what it did stays recorded).
    pub fn abort(mut self) -> Result<()> {
        let line = format!("abort\t{}", self.id);
        self.append(&line)
    }

    fn append(&mut self, line: &str) -> Result<()> {
        self.file
            .write_all(format!("{line}\n").as_bytes())
            .at("append to", &self.path)?;
        self.file.sync_data().at("sync", &self.path)
    }
}

/// Close an interrupted transaction (after `check --repair` made the state
/// consistent), so it is no longer reported.
pub fn abort(root: &Path, id: u64) -> Result<()> {
    let p = path(root);
    let mut f = OpenOptions::new()
        .append(true)
        .open(&p)
        .at("open the journal", &p)?;
    f.write_all(format!("abort\t{id}\n").as_bytes())
        .at("append to", &p)?;
    f.sync_data().at("sync", &p)
}

/// `YYYY-MM-DD HH:MM:SS` UTC for a unix time (civil-from-days, H. Hinnant).
pub fn format_time(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_and_torn_lines_are_skipped() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir_all(root.path().join(STATE_DIR)).unwrap();
        let mut tx = Tx::begin(root.path(), "install lua", None).unwrap();
        tx.switched(&Switch {
            name: "lua".into(),
            from: None,
            to: Some("lua-5.4.4".into()),
        })
        .unwrap();
        tx.commit().unwrap();
        let tx = Tx::begin(root.path(), "rollback", Some(1)).unwrap();
        drop(tx);
        let mut f = OpenOptions::new()
            .append(true)
            .open(path(root.path()))
            .unwrap();
        f.write_all(b"swit").unwrap();
        let txs = read(root.path()).unwrap();
        assert_eq!(txs.len(), 2);
        assert_eq!(txs[0].end, End::Committed);
        assert_eq!(txs[0].switches[0].to.as_deref(), Some("lua-5.4.4"));
        assert_eq!(
            (txs[1].id, txs[1].undo_of, txs[1].end),
            (2, Some(1), End::Interrupted)
        );
    }

    #[test]
    fn times_format_as_utc() {
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(1_795_290_000), "2026-11-21 19:40:00");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00");
    }
}
