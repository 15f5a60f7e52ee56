use crate::config::Settings;
use crate::error::Result;
use crate::journal::{self, End};
use crate::ops::versions;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Machine-readable output (docs/json.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let txs = versions::history(settings)?;
    if args.json {
        super::print_json(&txs);
        return Ok(());
    }
    for t in txs {
        let end = match t.end {
            End::Committed => "",
            End::Aborted => " [failed or abandoned]",
            End::Interrupted => " [interrupted]",
        };
        println!(
            "#{} {} {}{end}",
            t.id,
            journal::format_time(t.time),
            t.command
        );
        for sw in &t.switches {
            let d = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
            println!("    {}: {} -> {}", sw.name, d(&sw.from), d(&sw.to));
        }
    }
    Ok(())
}
