use crate::config::Settings;
use crate::error::Result;
use crate::ops::makepatch;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port whose work dir (prepared by `gport extract`) was edited
    name: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let r = makepatch::makepatch(settings, &args.name)?;
    let verb = |v: &'static str, dry: &'static str| if settings.dry_run { dry } else { v };
    for p in &r.updated {
        println!("{}\t{p}", verb("updated", "would update"));
    }
    for p in &r.created {
        println!("{}\t{p}", verb("created", "would create"));
    }
    for p in &r.unchanged {
        println!("unchanged\t{p}");
    }
    for p in &r.empty {
        println!("empty\t{p}\tno longer changes anything; remove it from port.toml");
    }
    Ok(())
}
