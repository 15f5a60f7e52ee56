use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port name
    name: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    for id in query::deps(settings, &args.name)? {
        println!("{id}");
    }
    Ok(())
}
