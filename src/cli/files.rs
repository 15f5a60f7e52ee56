use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Package name
    name: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    for r in query::files(settings, &args.name)? {
        match r.link {
            Some(l) => println!("{}\t{}", r.path.display(), l.display()),
            None => println!("{}", r.path.display()),
        }
    }
    Ok(())
}
