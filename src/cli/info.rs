use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port name
    name: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    print!("{}", query::info(settings, &args.name)?);
    Ok(())
}
