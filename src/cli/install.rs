use crate::config::Settings;
use crate::error::Result;
use crate::ops;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ports to install
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    ops::install::install(settings, &args.names)
}
