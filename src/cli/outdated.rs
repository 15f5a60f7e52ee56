use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {}

pub fn run(_args: Args, settings: &Settings) -> Result<()> {
    for r in query::outdated(settings)? {
        println!("{:<16} {:<12} -> {}", r.name, r.active, r.tree);
    }
    Ok(())
}
