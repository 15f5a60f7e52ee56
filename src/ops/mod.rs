//! Operations: one module per verb family, each taking resolved
//! [`Settings`] and returning data for the CLI.

pub mod check;
pub mod checksum;
pub mod etc;
pub mod install;
pub mod lint;
pub mod makepatch;
pub mod mirror;
pub mod new;
pub mod porter;
pub mod query;
pub mod reproduce;
pub mod versions;

use crate::config::Settings;
use crate::error::Result;
use crate::journal::Tx;
use crate::lock::Lock;
use crate::store::Store;
use crate::ui;

/// A mutating run: the lock held for its whole life, debris of interrupted
/// runs cleared, and a journal transaction begun at the first change.
pub struct Mutation<'a> {
    pub settings: &'a Settings,
    pub store: Store,
    command: String,
    undo_of: Option<u64>,
    tx: Option<Tx>,
    _lock: Lock,
}

impl<'a> Mutation<'a> {
    pub fn begin(settings: &'a Settings, command: &str) -> Result<Mutation<'a>> {
        let lock = Lock::acquire(&settings.root, |m| ui::status(settings, m))?;
        let store = Store::new(&settings.root);
        store.clean_debris()?;
        Ok(Mutation {
            settings,
            store,
            command: command.to_string(),
            undo_of: None,
            tx: None,
            _lock: lock,
        })
    }

    /// Mark the transaction as undoing transaction `id`.
    pub fn undoing(mut self, id: u64) -> Self {
        self.undo_of = Some(id);
        self
    }

    /// The transaction, begun now if this is the first change.
    pub fn tx(&mut self) -> Result<&mut Tx> {
        if self.tx.is_none() {
            self.tx = Some(Tx::begin(&self.settings.root, &self.command, self.undo_of)?);
        }
        Ok(self.tx.as_mut().expect("just begun"))
    }

    /// Close the transaction: committed on success, aborted on an error
    /// (a kill leaves it open, which `check` reports).
    pub fn finish(self, result: Result<()>) -> Result<()> {
        match (self.tx, result) {
            (Some(tx), Ok(())) => tx.commit(),
            (Some(tx), Err(e)) => {
                let _ = tx.abort();
                Err(e)
            }
            (None, r) => r,
        }
    }
}
