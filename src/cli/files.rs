use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Package name
    name: String,
    /// Machine-readable output (docs/json.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let rows = query::files(settings, &args.name)?;
    if args.json {
        super::print_json(&rows);
        return Ok(());
    }
    for r in rows {
        match r.link {
            Some(l) => println!("{}\t{}", r.path.display(), l.display()),
            None => println!("{}", r.path.display()),
        }
    }
    Ok(())
}
