//! `gport checksum NAME`: record each source's sha256 and size in port.toml.
//!
//! A port being written has no checksums yet, so it cannot go through
//! [`Port::load`](crate::port::Port::load), which requires them: port.toml
//! is edited as a document (toml_edit), which keeps the porter's comments and
//! layout. A recorded checksum is never changed silently: a file that differs
//! from it is refused unless `--update`, so a re-rolled upstream tarball is
//! noticed rather than absorbed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use toml_edit::{Decor, DocumentMut, Item, Key, Table, Value};

use crate::atomic::write_file;
use crate::config::Settings;
use crate::error::{ChecksumChange, Error, IoContext, Location, Result};
use crate::fetch::Fetcher;
use crate::hash::hash_file;
use crate::port::{check_distfile_name, default_file_name};
use crate::tree::Tree;
use crate::ui;

/// What happened, or with `-n` would happen, to one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The file matches what port.toml records.
    Ok,
    /// port.toml recorded nothing (or part): the file's values were added.
    Filled { sha256: String, size: u64 },
    /// The file differs and `--update` replaced the recorded values.
    Updated(ChecksumChange),
    /// `-n` and no copy in the store: nothing to compare without a download.
    NotInStore,
}

#[derive(Debug)]
pub struct SourceSum {
    pub file: String,
    pub outcome: Outcome,
}

#[derive(Debug)]
pub struct Report {
    pub port_toml: PathBuf,
    pub sources: Vec<SourceSum>,
    /// Whether port.toml was rewritten (never with `-n`).
    pub written: bool,
}

/// Fill in, check, or (`update`) replace the checksums of port `name`.
pub fn checksum(settings: &Settings, name: &str, update: bool) -> Result<Report> {
    let tree = Tree::open(&settings.tree)?;
    let path = tree.dir(name)?.join("port.toml");
    let text = fs::read_to_string(&path).at("read", &path)?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| Error::Syntax {
            location: Location::of_offset(&path, &text, e.span().map_or(0, |s| s.start)),
            message: e.message().trim_end().to_string(),
        })?;
    let invalid = |message: String| Error::Invalid {
        path: path.clone(),
        message,
    };
    let tables = doc
        .get_mut("source")
        .and_then(Item::as_array_of_tables_mut)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| invalid("no [[source]] table".into()))?;

    let fetcher = Fetcher::new(settings);
    let mut sources = Vec::new();
    let mut refused = Vec::new();
    for (i, table) in tables.iter_mut().enumerate() {
        let recorded =
            Recorded::read(table).map_err(|m| invalid(format!("[[source]] #{}: {m}", i + 1)))?;
        let store_copy = settings.distfiles.join(&recorded.file);
        let (sha256, size) = if store_copy.is_file() {
            hash_file(&store_copy)?
        } else if settings.dry_run {
            sources.push(SourceSum {
                file: recorded.file,
                outcome: Outcome::NotInStore,
            });
            continue;
        } else {
            let (_, sha, size) = fetcher.download_unverified(&recorded.file, &recorded.urls)?;
            (sha, size)
        };
        let differs = recorded.sha256.as_ref().is_some_and(|s| *s != sha256)
            || recorded.size.is_some_and(|s| s != size);
        let outcome = if differs {
            let change = ChecksumChange {
                file: recorded.file.clone(),
                old_sha256: recorded.sha256.clone(),
                old_size: recorded.size,
                new_sha256: sha256.clone(),
                new_size: size,
            };
            refused.push(change.clone());
            Outcome::Updated(change)
        } else if recorded.sha256.is_none() || recorded.size.is_none() {
            Outcome::Filled {
                sha256: sha256.clone(),
                size,
            }
        } else {
            Outcome::Ok
        };
        if outcome != Outcome::Ok {
            set_value(table, "sha256", Value::from(sha256));
            set_value(table, "size", Value::from(size as i64));
        }
        sources.push(SourceSum {
            file: recorded.file,
            outcome,
        });
    }
    // All or nothing: one refused source keeps the others' fill-ins out too,
    // so port.toml is byte-identical after a refusal.
    if !refused.is_empty() && !update {
        return Err(Error::ChecksumChanged {
            port: name.to_string(),
            changes: refused,
        });
    }

    let changed = sources
        .iter()
        .any(|s| matches!(s.outcome, Outcome::Filled { .. } | Outcome::Updated(_)));
    let written = changed && !settings.dry_run;
    if written {
        let mode = fs::metadata(&path)
            .at("inspect", &path)?
            .permissions()
            .mode()
            & 0o777;
        write_file(&path, doc.to_string().as_bytes(), mode)?;
        ui::status(settings, &format!("wrote {}", path.display()));
    }
    Ok(Report {
        port_toml: path,
        sources,
        written,
    })
}

/// What one `[[source]]` table says. An empty string counts as absent: it
/// is how a porter leaves a value to be filled in.
struct Recorded {
    urls: Vec<String>,
    file: String,
    sha256: Option<String>,
    size: Option<u64>,
}

impl Recorded {
    fn read(t: &Table) -> std::result::Result<Recorded, String> {
        let urls: Vec<String> = match t.get("urls").and_then(Item::as_array) {
            Some(a) => a
                .iter()
                .map(|v| v.as_str().map(String::from))
                .collect::<Option<_>>()
                .ok_or("`urls` must be a list of strings")?,
            None => return Err("`urls` (a list of strings) is required".into()),
        };
        let first = urls.first().ok_or("`urls` is empty")?;
        let file = match t.get("file") {
            Some(f) => f.as_str().ok_or("`file` must be a string")?.to_string(),
            None => default_file_name(first).to_string(),
        };
        check_distfile_name(&file)?;
        let sha256 = match t.get("sha256") {
            None => None,
            Some(v) => match v.as_str().ok_or("`sha256` must be a string")? {
                "" => None,
                s => Some(s.to_string()),
            },
        };
        let size = match t.get("size") {
            None => None,
            Some(v) if v.as_str() == Some("") => None,
            Some(v) => Some(
                v.as_integer()
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or("`size` must be a number of bytes")?,
            ),
        };
        Ok(Recorded {
            urls,
            file,
            sha256,
            size,
        })
    }
}

/// Set `key`, keeping the old value's surrounding whitespace and trailing
/// comment. A new key follows the table's alignment, and `sha256` goes
/// before `size` (the order gports(5) shows); otherwise it goes last.
fn set_value(table: &mut Table, key: &str, mut new: Value) {
    if let Some(old) = table.get_mut(key).and_then(Item::as_value_mut) {
        *new.decor_mut() = old.decor().clone();
        *old = new;
        return;
    }
    let moved = if key == "sha256" {
        table.remove_entry("size")
    } else {
        None
    };
    let mut k = Key::new(key);
    if let Some(pad) = alignment(table).and_then(|col| col.checked_sub(key.len())) {
        k = k.with_leaf_decor(Decor::new("", " ".repeat(pad.max(1))));
    }
    table.insert_formatted(&k, Item::Value(new));
    if let Some((k, item)) = moved {
        table.insert_formatted(&k, item);
    }
}

/// The column of `=` when every key of the table is padded to the same one
/// (`urls   = …`, `sha256 = …`); None for unaligned tables.
fn alignment(table: &Table) -> Option<usize> {
    let mut cols = table.iter().map(|(name, _)| {
        let key = table.key(name)?;
        let suffix = key.leaf_decor().suffix().and_then(|s| s.as_str())?;
        Some(key.display_repr().len() + suffix.len())
    });
    let first = cols.next()??;
    let mut all_equal = true;
    for c in cols {
        all_equal &= c == Some(first);
    }
    (all_equal && table.len() > 1).then_some(first)
}
