use clap::CommandFactory;
use clap_complete::Shell;

use crate::config::Settings;
use crate::error::Result;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// bash, zsh, fish, elvish or powershell
    shell: Shell,
}

pub fn run(args: Args, _settings: &Settings) -> Result<()> {
    clap_complete::generate(
        args.shell,
        &mut super::Cli::command(),
        "gport",
        &mut std::io::stdout(),
    );
    Ok(())
}
