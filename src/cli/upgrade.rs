use crate::config::Settings;
use crate::error::Result;
use crate::ops;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Packages to upgrade [default: every active package]
    #[arg(value_name = "NAME")]
    names: Vec<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    ops::install::upgrade(settings, &args.names)
}
