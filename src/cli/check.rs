use crate::config::Settings;
use crate::error::{Error, Result};
use crate::ops::check;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Repair what gport created (links, pointers, debris); report the rest
    #[arg(long)]
    repair: bool,
    /// Machine-readable output (docs/json.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let findings = check::check(settings, args.repair && !settings.dry_run)?;
    let left = findings.iter().filter(|f| !f.repaired).count();
    if args.json {
        super::print_json(&serde_json::json!({ "findings": findings, "remaining": left }));
    } else {
        for f in &findings {
            println!("{f}");
        }
    }
    if left > 0 {
        return Err(Error::Inconsistent { count: left });
    }
    ui::status(
        settings,
        if findings.is_empty() {
            "consistent"
        } else {
            "consistent after repair"
        },
    );
    Ok(())
}
