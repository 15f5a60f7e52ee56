use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Text to look for in port names and summaries (case-insensitive)
    term: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    for r in query::search(settings, &args.term)? {
        println!(
            "{:<16} {:<12} {:<7} {}",
            r.name, r.version, r.category, r.summary
        );
    }
    Ok(())
}
