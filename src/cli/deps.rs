use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port name
    name: String,
    /// Machine-readable output (docs/json.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let rows = query::deps(settings, &args.name)?;
    if args.json {
        super::print_json(&rows);
    } else {
        for r in rows {
            println!("{}", r.id);
        }
    }
    Ok(())
}
