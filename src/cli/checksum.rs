use crate::config::Settings;
use crate::error::Result;
use crate::ops::checksum::{self, Outcome};
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Replace recorded checksums that differ from the files (prints old -> new)
    #[arg(long)]
    update: bool,
    /// Port name
    name: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let report = checksum::checksum(settings, &args.name, args.update)?;
    let would = if settings.dry_run { "would " } else { "" };
    for s in &report.sources {
        match &s.outcome {
            Outcome::Ok => println!("{}: ok", s.file),
            Outcome::Filled { sha256, size } => {
                println!("{}: {would}fill in sha256 {sha256}, size {size}", s.file)
            }
            Outcome::Updated(change) => println!("{would}update {change}"),
            Outcome::NotInStore => println!(
                "{}: not in the store; a real run downloads it first",
                s.file
            ),
        }
    }
    if !report.written {
        ui::status(
            settings,
            &format!("{} not changed", report.port_toml.display()),
        );
    }
    Ok(())
}
