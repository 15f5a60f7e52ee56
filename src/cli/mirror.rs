use std::path::PathBuf;

use clap::Subcommand;

use crate::config::Settings;
use crate::error::Result;
use crate::ops::mirror;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: MirrorCommand,
}

#[derive(Debug, Subcommand)]
enum MirrorCommand {
    /// Write DIR/INDEX listing every file's sha256, size and path
    Index { dir: PathBuf },
    /// Replicate a mirror (HTTP URL or directory) into DIR, append-only
    Sync {
        #[arg(value_name = "URL|DIR")]
        source: String,
        dir: PathBuf,
        /// Hash existing files too, not only compare sizes
        #[arg(long)]
        verify: bool,
        /// Print the summary as JSON (docs/json.md)
        #[arg(long)]
        json: bool,
    },
    /// Add files identified by sha256 under the names the tree expects
    Import {
        #[arg(required = true, value_name = "SRC")]
        srcs: Vec<PathBuf>,
        /// Where to put them [default: the distfiles store]
        #[arg(long, value_name = "DIR")]
        into: Option<PathBuf>,
        /// Match against this mirror INDEX instead of the tree's sources
        #[arg(long, value_name = "FILE")]
        index: Option<PathBuf>,
    },
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    match args.command {
        MirrorCommand::Index { dir } => {
            let idx = mirror::index(settings, &dir)?;
            ui::status(
                settings,
                &format!(
                    "{} files indexed in {}",
                    idx.entries.len(),
                    dir.join("INDEX").display()
                ),
            );
            Ok(())
        }
        MirrorCommand::Sync {
            source,
            dir,
            verify,
            json,
        } => {
            let r = mirror::sync(settings, &source, &dir, verify)?;
            if json {
                super::print_json(&r);
                return if r.is_clean() {
                    Ok(())
                } else {
                    Err(mirror::incomplete(&r))
                };
            }
            for (kind, list) in [
                ("conflict", &r.conflicts),
                ("refused", &r.refused),
                ("failed", &r.failed),
            ] {
                for i in list {
                    println!("{kind}\t{}\t{}", i.path, i.reason);
                }
            }
            println!(
                "added {}, present {}, conflicts {}, refused {}, failed {}, bytes {}",
                r.added.len(),
                r.present,
                r.conflicts.len(),
                r.refused.len(),
                r.failed.len(),
                r.bytes
            );
            if r.is_clean() {
                Ok(())
            } else {
                Err(mirror::incomplete(&r))
            }
        }
        MirrorCommand::Import { srcs, into, index } => {
            let r = mirror::import(settings, &srcs, into.as_deref(), index.as_deref())?;
            for p in &r.imported {
                println!("imported\t{p}");
            }
            for (p, why) in &r.conflicts {
                println!("conflict\t{p}\t{why}");
            }
            println!(
                "imported {}, present {}, conflicts {}, unmatched {}",
                r.imported.len(),
                r.present.len(),
                r.conflicts.len(),
                r.unmatched
            );
            if r.conflicts.is_empty() {
                Ok(())
            } else {
                Err(crate::error::Error::SyncIncomplete {
                    conflicts: r.conflicts.len(),
                    refused: 0,
                    failed: 0,
                })
            }
        }
    }
}
