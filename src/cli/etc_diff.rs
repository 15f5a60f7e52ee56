use crate::config::Settings;
use crate::error::Result;
use crate::ops::etc;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this package [default: every active package]
    name: Option<String>,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    for f in etc::etc_diff(settings, args.name.as_deref())? {
        let rel = f.rel.display();
        match (&f.live_diff, f.live_exists) {
            (_, false) => println!(
                "{}: /etc/{rel} is not in use (example: /etc/examples/{rel})",
                f.package
            ),
            (None, true) => println!("{}: /etc/{rel} is the same as the example", f.package),
            (Some(d), true) => print!("{}: /etc/{rel} differs from the example:\n{d}", f.package),
        }
        if let Some((prev, d)) = &f.example_diff {
            print!(
                "{}: the example /etc/examples/{rel} changed since {prev}:\n{d}",
                f.package
            );
        }
    }
    Ok(())
}
