use clap::Parser;

fn main() {
    // A closed pipe (`gport list | head`) ends the process quietly, as for
    // any Unix filter, instead of panicking in println!.
    // SAFETY: called first thing, before any other thread exists.
    unsafe {
        let _ = nix::sys::signal::signal(
            nix::sys::signal::Signal::SIGPIPE,
            nix::sys::signal::SigHandler::SigDfl,
        );
    }
    let cli = gport::cli::Cli::parse();
    if let Err(err) = gport::cli::run(cli) {
        eprintln!("error: {err}");
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            eprintln!("  caused by: {cause}");
            source = cause.source();
        }
        if let Some(hint) = err.hint() {
            eprintln!("hint: {hint}");
        }
        std::process::exit(err.exit_code());
    }
}
