use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// List the ports of the tree instead of installed packages
    #[arg(long)]
    available: bool,
    /// Machine-readable output (docs/json.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    if args.json {
        if args.available {
            super::print_json(&query::available(settings)?);
        } else {
            super::print_json(&query::installed(settings)?);
        }
        return Ok(());
    }
    if args.available {
        for r in query::available(settings)? {
            println!(
                "{:<16} {:<12} {:<7} {}",
                r.name, r.version, r.category, r.summary
            );
        }
    } else {
        for r in query::installed(settings)? {
            println!(
                "{:<16} {:<12} {}",
                r.name,
                r.version,
                if r.active { "active" } else { "inactive" }
            );
        }
    }
    Ok(())
}
