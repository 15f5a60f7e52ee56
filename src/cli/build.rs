use crate::config::Settings;
use crate::error::Result;
use crate::ops::reproduce;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port name
    name: String,
    /// Build twice (different work dirs, different times) and compare
    #[arg(long)]
    check: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    if !args.check {
        let b = reproduce::build_only(settings, &args.name)?;
        println!(
            "{}: {} entries staged in {}, tree hash {}",
            b.id,
            b.files,
            b.staged.display(),
            b.tree_hash
        );
        return Ok(());
    }
    let c = reproduce::check(settings, &args.name)?;
    if c.differences.is_empty() {
        println!("{}: reproducible (tree hash {})", c.id, c.tree_hashes.0);
        return Ok(());
    }
    for d in &c.differences {
        println!("differs\t{}\t{}", d.path.display(), d.what);
    }
    match &c.known_reason {
        Some(reason) => {
            println!(
                "{}: not reproducible, as its port.toml says: {reason}",
                c.id
            );
            Ok(())
        }
        None => Err(reproduce::not_reproducible(&c)),
    }
}
