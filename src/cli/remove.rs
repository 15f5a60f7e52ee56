use crate::config::Settings;
use crate::error::Result;
use crate::ops::versions;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Packages to deactivate and delete (every build)
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
    /// Remove even if an active package needs it at run time
    #[arg(long)]
    force: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    versions::remove(settings, &args.names, args.force)
}
