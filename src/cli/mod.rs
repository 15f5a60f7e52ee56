//! The command line: one clap-derive definition, one file per subcommand.
//! Each subcommand turns its arguments into a call of one operation in
//! [`crate::ops`] and prints the result: data on stdout, status on stderr.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Overrides, Settings};
use crate::error::Result;

mod audit;
mod build;
mod check;
mod checksum;
mod completions;
mod deps;
mod etc_diff;
mod extract;
mod fetch;
mod files;
mod gc;
mod history;
mod info;
mod install;
mod lint;
mod list;
mod makepatch;
mod man;
mod mirror;
mod new;
mod outdated;
mod owner;
mod remove;
mod rollback;
mod search;
mod switch;
mod upgrade;

#[derive(Debug, Parser)]
#[command(
    name = "gport",
    version,
    about = "Build, install and activate ports from a ports tree",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes. Precedence: flag, then environment, then
/// ROOT/etc/gport.conf, then the built-in default.
#[derive(Debug, clap::Args)]
pub struct Global {
    /// Operate on this root instead of /
    #[arg(long, global = true, env = "GPORT_ROOT", value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// The ports tree (a directory holding base/ and gports/)
    #[arg(long, global = true, env = "GPORT_TREE", value_name = "DIR")]
    pub tree: Option<PathBuf>,
    /// Configuration file [default: ROOT/etc/gport.conf]
    #[arg(long, global = true, env = "GPORT_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The distfiles store
    #[arg(long, global = true, env = "GPORT_DISTFILES", value_name = "DIR")]
    pub distfiles: Option<PathBuf>,
    /// Where builds happen
    #[arg(long, global = true, env = "GPORT_WORKDIR", value_name = "DIR")]
    pub workdir: Option<PathBuf>,
    /// A source mirror (HTTP base URL or directory); repeatable
    #[arg(
        long = "mirror",
        global = true,
        env = "GPORT_MIRRORS",
        value_delimiter = ',',
        value_name = "URL|DIR"
    )]
    pub mirrors: Vec<String>,
    /// Parallel build jobs
    #[arg(short, long, global = true, env = "GPORT_JOBS", value_name = "N")]
    pub jobs: Option<usize>,
    /// Print what would be done, change nothing
    #[arg(short = 'n', long, global = true)]
    pub dry_run: bool,
    /// More detail
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fetch, build, install and activate ports (dependencies first)
    Install(install::Args),
    /// Build and switch to the tree's newer versions, dependencies first
    Upgrade(upgrade::Args),
    /// Activate an installed build of a package
    Switch(switch::Args),
    /// Return a package to its previous build, or undo the last transaction
    Rollback(rollback::Args),
    /// Deactivate packages and delete all their builds
    Remove(remove::Args),
    /// Delete inactive builds
    Gc(gc::Args),
    /// List the transactions in the journal
    History(history::Args),
    /// Compare links and builds with what they should be; optionally repair
    Check(check::Args),
    /// List installed packages, or the ports of the tree
    List(list::Args),
    /// Write the manual pages gport(1), gports(5), gport.conf(5)
    Man(man::Args),
    /// Print a shell completion script
    Completions(completions::Args),
    /// Show a port and which of its builds are installed
    Info(info::Args),
    /// Show the install order of a port's dependencies
    Deps(deps::Args),
    /// List the files of an active package and where they are linked
    Files(files::Args),
    /// Tell which package a path belongs to
    Owner(owner::Args),
    /// List active packages the tree has newer builds of
    Outdated(outdated::Args),
    /// Find ports by name or summary
    Search(search::Args),
    /// Show how live /etc files differ from shipped examples
    EtcDiff(etc_diff::Args),
    /// Fetch and verify a port's sources into the distfiles store
    Fetch(fetch::Args),
    /// Fill in a port's sha256 and size; --update replaces changed ones
    Checksum(checksum::Args),
    /// Check ports for errors and what a reviewer would ask about
    Lint(lint::Args),
    /// Write a port skeleton from a source tarball URL
    New(new::Args),
    /// Keep source mirrors: index, sync (append-only), import
    Mirror(mirror::Args),
    /// Prepare a port's patched source in its work dir
    Extract(extract::Args),
    /// Build a port without installing it; --check builds twice and compares
    Build(build::Args),
    /// Check every patch against the pristine source, its headers, orphans
    Audit(audit::Args),
    /// Regenerate a port's patches from its edited work dir
    Makepatch(makepatch::Args),
}

impl Global {
    fn settings(&self) -> Result<Settings> {
        Settings::resolve(Overrides {
            root: self.root.clone(),
            config: self.config.clone(),
            tree: self.tree.clone(),
            distfiles: self.distfiles.clone(),
            workdir: self.workdir.clone(),
            mirrors: (!self.mirrors.is_empty()).then(|| self.mirrors.clone()),
            jobs: self.jobs,
            dry_run: self.dry_run,
            verbose: self.verbose,
            quiet: self.quiet,
        })
    }
}

/// Print a value as the documented, stable JSON of a `--json` listing.
pub(crate) fn print_json<T: serde::Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("serialisable")
    );
}

pub fn run(cli: Cli) -> Result<()> {
    let settings = cli.global.settings()?;
    match cli.command {
        Command::Install(a) => install::run(a, &settings),
        Command::Upgrade(a) => upgrade::run(a, &settings),
        Command::Switch(a) => switch::run(a, &settings),
        Command::Rollback(a) => rollback::run(a, &settings),
        Command::Remove(a) => remove::run(a, &settings),
        Command::Gc(a) => gc::run(a, &settings),
        Command::History(a) => history::run(a, &settings),
        Command::Check(a) => check::run(a, &settings),
        Command::List(a) => list::run(a, &settings),
        Command::Man(a) => man::run(a, &settings),
        Command::Completions(a) => completions::run(a, &settings),
        Command::Info(a) => info::run(a, &settings),
        Command::Deps(a) => deps::run(a, &settings),
        Command::Files(a) => files::run(a, &settings),
        Command::Owner(a) => owner::run(a, &settings),
        Command::Outdated(a) => outdated::run(a, &settings),
        Command::Search(a) => search::run(a, &settings),
        Command::EtcDiff(a) => etc_diff::run(a, &settings),
        Command::Fetch(a) => fetch::run(a, &settings),
        Command::Checksum(a) => checksum::run(a, &settings),
        Command::Lint(a) => lint::run(a, &settings),
        Command::New(a) => new::run(a, &settings),
        Command::Mirror(a) => mirror::run(a, &settings),
        Command::Extract(a) => extract::run(a, &settings),
        Command::Build(a) => build::run(a, &settings),
        Command::Audit(a) => audit::run(a, &settings),
        Command::Makepatch(a) => makepatch::run(a, &settings),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
