use crate::config::Settings;
use crate::error::Result;
use crate::ops::query;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port name
    name: String,
    /// Machine-readable output (docs/json.md)
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let i = query::info(settings, &args.name)?;
    if args.json {
        super::print_json(&i);
        return Ok(());
    }
    let line = |k: &str, v: &str| println!("{k:<16}{v}");
    line("name", &i.name);
    line("version", &i.version);
    line("summary", &i.summary);
    line("homepage", &i.homepage);
    line("license", &i.license);
    line("category", &i.category);
    line("depends", &i.depends.join(" "));
    line("runtime-depends", &i.runtime_depends.join(" "));
    for s in &i.sources {
        line(
            "source",
            &format!("{} ({} bytes, sha256 {})", s.file, s.size, s.sha256),
        );
    }
    for p in &i.patches {
        line("patch", p);
    }
    for o in &i.overlays {
        line("overlay", o);
    }
    let builds: Vec<String> = i
        .installed
        .iter()
        .map(|b| {
            if b.active {
                format!("{} (active)", b.id)
            } else {
                b.id.clone()
            }
        })
        .collect();
    let installed = if builds.is_empty() {
        "no".to_string()
    } else {
        builds.join(" ")
    };
    line("installed", &installed);
    Ok(())
}
