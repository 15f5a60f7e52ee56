use std::path::PathBuf;

use clap::CommandFactory;

use crate::atomic::write_file;
use crate::config::Settings;
use crate::error::{Error, IoContext, Result};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to write man1/gport.1, man5/gports.5 and man5/gport.conf.5
    /// into (for example /usr/share/man)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Sections clap cannot know, appended to the generated gport(1).
const EXTRA: &str = r#".SH ENVIRONMENT
GPORT_ROOT, GPORT_TREE, GPORT_CONFIG, GPORT_DISTFILES, GPORT_WORKDIR,
GPORT_MIRRORS (comma-separated), GPORT_JOBS: the same as the options of
those names; a flag wins over the environment, which wins over gport.conf.
.SH EXIT STATUS
0 success; 1 the operation failed (nothing was changed by the failing step);
2 usage error; 3 link conflicts (nothing was changed). check exits 1 while
problems remain. A closed pipe ends gport quietly.
.SH FILES
.TP
.I ROOT/gales/pkg/NAME-VERSION/
an installed build, read-only; .gport/ holds the port as built, the manifest
and the build log
.TP
.I ROOT/gales/pkg/NAME
the pointer to the active build
.TP
.I ROOT/gales/pkg/.gport/
the lock and the journal
.TP
.I ROOT/etc/gport.conf
configuration, never written by gport
.SH SEE ALSO
.BR gports (5),
.BR gport.conf (5)
"#;

pub fn run(args: Args, settings: &Settings) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(super::Cli::command())
        .render(&mut page)
        .at("render", &args.out)?;
    page.extend_from_slice(EXTRA.as_bytes());
    let pages: [(&str, &[u8]); 3] = [
        ("man1/gport.1", &page),
        ("man5/gports.5", include_bytes!("../../docs/man/gports.5")),
        (
            "man5/gport.conf.5",
            include_bytes!("../../docs/man/gport.conf.5"),
        ),
    ];
    for (rel, text) in pages {
        let path = args.out.join(rel);
        if settings.dry_run {
            println!("would write {}", path.display());
            continue;
        }
        let dir = crate::atomic::parent(&path);
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        write_file(&path, text, 0o644)?;
        println!("{}", path.display());
    }
    Ok(())
}
