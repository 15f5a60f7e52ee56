use crate::config::Settings;
use crate::error::Result;
use crate::ops::versions;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep this many of each package's newest inactive builds
    #[arg(long, default_value_t = 0, value_name = "N")]
    keep: usize,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let deleted = versions::gc(settings, args.keep)?;
    let verb = if settings.dry_run {
        "would delete"
    } else {
        "deleted"
    };
    for id in &deleted {
        println!("{verb} {id}");
    }
    if deleted.is_empty() {
        ui::status(settings, "no inactive builds to delete");
    }
    Ok(())
}
