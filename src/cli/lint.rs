use crate::config::Settings;
use crate::error::Result;
use crate::ops::lint;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ports to check [default: every port of the tree]
    #[arg(value_name = "NAME")]
    names: Vec<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let result = lint::lint(settings, &args.names)?;
    for f in &result.findings {
        println!("{f}");
    }
    lint::verdict(&result.findings)?;
    ui::status(
        settings,
        &format!(
            "{} port(s) checked, no errors, {} warning(s)",
            result.ports,
            result.findings.len()
        ),
    );
    Ok(())
}
