use crate::config::Settings;
use crate::error::Result;
use crate::ops::porter;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port name
    name: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    println!("{}", porter::extract(settings, &args.name)?.display());
    Ok(())
}
