use crate::config::Settings;
use crate::error::Result;
use crate::ops::versions;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, settings: &Settings) -> Result<()> {
    for t in versions::history(settings)? {
        println!("{t}");
    }
    Ok(())
}
