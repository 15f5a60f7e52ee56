use crate::config::Settings;
use crate::error::Result;
use crate::ops::porter;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ports whose sources to fetch
    #[arg(required = true, value_name = "NAME")]
    names: Vec<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    for path in porter::fetch(settings, &args.names)? {
        println!("{}", path.display());
    }
    Ok(())
}
