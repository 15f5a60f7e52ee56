use crate::config::Settings;
use crate::error::Result;
use crate::ops::new;
use crate::ui;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Name of the new port
    name: String,
    /// URL of the source tarball
    url: String,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let done = new::new_port(settings, &args.name, &args.url)?;
    let version = done.version.as_deref().unwrap_or("0 (not guessed: TODO)");
    if settings.dry_run {
        if done.from_store {
            println!("would use {} from the store", done.file);
        } else {
            println!("would download {} as {}", args.url, done.file);
        }
        println!("would guess the build system from the unpacked source");
        println!("version {version}");
        for p in &done.written {
            println!("would write {}", p.display());
        }
        return Ok(());
    }
    for p in &done.written {
        println!("{}", p.display());
    }
    ui::status(
        settings,
        &format!(
            "version {version}; next: `gport lint {}` lists what is left to fill in",
            args.name
        ),
    );
    Ok(())
}
