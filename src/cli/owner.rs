use std::path::PathBuf;

use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A path as seen on the target system (relative to --root), e.g. /usr/bin/lua
    path: PathBuf,
    /// Machine-readable output (docs/json.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let o = query::owner(settings, &args.path)?;
    if args.json {
        super::print_json(&o);
    } else {
        println!(
            "{} is owned by {} ({})",
            o.path.display(),
            o.build,
            o.file.display()
        );
    }
    Ok(())
}
