use crate::config::Settings;
use crate::error::Result;
use crate::ops::versions;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Package name
    name: String,
    /// An installed version (`5.4.4`, `5.4.4_1`) or build id (`lua-5.4.4`)
    #[arg(value_name = "VERSION")]
    build: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    versions::switch(settings, &args.name, &args.build)
}
