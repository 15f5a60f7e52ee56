use crate::config::Settings;
use crate::error::Result;
use crate::ops::versions;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Return this package to its previously active build; without a name,
    /// undo the last transaction as a whole
    name: Option<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    match args.name {
        Some(name) => versions::rollback_package(settings, &name),
        None => versions::rollback_transaction(settings),
    }
}
