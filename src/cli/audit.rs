use crate::audit::{self, Audit, Status};
use crate::config::Settings;
use crate::error::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Ports to audit [default: the whole tree]
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    /// Machine-readable output (documented in docs/audit.md)
    #[arg(long)]
    json: bool,
    /// Also require the recommended headers Author and Last-Update
    #[arg(long)]
    strict: bool,
}

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    // A --json listing is data only: no bars, even on a terminal.
    let quiet_bars = settings.without_progress();
    let settings = if args.json { &quiet_bars } else { settings };
    let a = audit::audit(settings, &args.names, args.strict)?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&a).expect("serialisable")
        );
    } else {
        print_table(&a);
    }
    if a.failed() {
        return Err(Error::AuditFailed {
            failing: a.summary.failing,
            incomplete: a.summary.incomplete_headers,
            orphans: a.summary.orphans,
            errors: a.ports.iter().filter(|p| p.error.is_some()).count(),
        });
    }
    Ok(())
}

fn status_name(s: Status) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn print_table(a: &Audit) {
    println!(
        "{:<14} {:<40} {:<16} {:<11} {:>5} {:>11}  NOTE",
        "PORT", "PATCH", "STATUS", "UPSTREAM", "FILES", "+/-"
    );
    for p in &a.ports {
        if let Some(e) = &p.error {
            println!("{:<14} {:<40} {:<16} {e}", p.name, "-", "error");
        }
        for r in &p.patches {
            let mut note = r.detail.clone().unwrap_or_default();
            for h in &r.hunks {
                note.push_str(&format!(
                    " {}#{}: offset {} fuzz {};",
                    h.file, h.hunk, h.offset, h.fuzz
                ));
            }
            if !r.missing_headers.is_empty() {
                note.push_str(&format!(
                    " missing headers: {}",
                    r.missing_headers.join(", ")
                ));
            }
            let lines = format!("+{}/-{}", r.added, r.removed);
            println!(
                "{:<14} {:<40} {:<16} {:<11} {:>5} {:>11}  {}",
                p.name,
                r.file,
                status_name(r.status),
                r.upstream,
                r.files.len(),
                lines,
                note.trim()
            );
        }
        for o in &p.orphans {
            println!(
                "{:<14} {:<40} {:<16} {:<11} {:>5} {:>11}  in patches/ but not listed in port.toml",
                p.name, o, "orphan", "-", "-", "-"
            );
        }
        for o in &p.overlays {
            let what = if o.replaces {
                "replaces an upstream file"
            } else {
                "adds a file"
            };
            println!(
                "{:<14} {:<40} {:<16} {:<11} {:>5} {:>11}  {what}",
                p.name,
                format!("files/{}", o.path),
                "overlay",
                "-",
                "-",
                "-"
            );
        }
    }
    let s = &a.summary;
    let ups: Vec<String> = s.upstream.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "\n{} ports, {} carrying patches: {} patches, +{}/-{} lines; upstream: {}; {} failing, {} with incomplete headers, {} orphans",
        s.ports,
        s.ports_with_patches,
        s.patches,
        s.added,
        s.removed,
        if ups.is_empty() {
            "-".into()
        } else {
            ups.join(", ")
        },
        s.failing,
        s.incomplete_headers,
        s.orphans
    );
}
