use std::path::PathBuf;

use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A path as seen on the target system (relative to --root), e.g. /usr/bin/lua
    path: PathBuf,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    println!("{}", query::owner(settings, &args.path)?);
    Ok(())
}
