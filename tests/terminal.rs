//! gport in a real terminal (tmux): a progress bar while a download runs, a
//! clean screen after it; the same command piped shows no bar.

mod common;

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use common::Ctx;
use common::http::{Reply, Server};
use common::synth::{E, PortSpec, write_port};

fn tmux(args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(args)
        .output()
        .expect("tmux is installed by tests/setup.sh");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn progress_bar_on_a_terminal_only() {
    let ctx = Ctx::with_own_tree();
    // A source of ~2 MiB that does not compress, served slowly.
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    let noise: Vec<u8> = (0..2_000_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    let noise: &'static [u8] = Box::leak(noise.into_boxed_slice());
    let dir = write_port(
        &ctx,
        &PortSpec {
            entries: vec![E::Dir("src/"), E::File("src/noise", noise, 0o644)],
            ..PortSpec::hello("slow")
        },
    );
    let tarball = fs::read(ctx.distfiles.join("slow-1.0.tar.gz")).unwrap();
    assert!(tarball.len() > 1_500_000, "the payload should not compress");
    fs::remove_file(ctx.distfiles.join("slow-1.0.tar.gz")).unwrap();
    let server = Server::start();
    server.set(
        "slow-1.0.tar.gz",
        Reply::Slow {
            body: tarball,
            pause: Duration::from_millis(25),
        },
    );
    let toml = fs::read_to_string(dir.join("port.toml"))
        .unwrap()
        .replace("http://127.0.0.1:9", &server.url);
    fs::write(dir.join("port.toml"), toml).unwrap();

    let cmd = ctx.cmd(&["fetch", "slow"]);
    let argv: Vec<String> = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| format!("'{}'", a.to_string_lossy()))
        .collect();
    let session = format!("gport-test-{}", std::process::id());
    let script = format!("{}; echo FINISHED-MARK; sleep 60", argv.join(" "));
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "160",
        "-y",
        "40",
        &script,
    ]);
    let start = Instant::now();
    let (mut saw_bar, mut finished) = (String::new(), String::new());
    while start.elapsed() < Duration::from_secs(60) {
        let screen = tmux(&["capture-pane", "-p", "-t", &session]);
        if screen.contains("FINISHED-MARK") {
            finished = screen;
            break;
        }
        if screen.contains("slow-1.0.tar.gz [") && screen.contains("iB/") {
            saw_bar = screen;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    tmux(&["kill-session", "-t", &session]);
    assert!(
        !saw_bar.is_empty(),
        "no progress bar seen during the download; last screen:\n{finished}"
    );
    assert!(
        saw_bar.contains("=>") || saw_bar.contains("=="),
        "{saw_bar}"
    );
    assert!(!finished.is_empty(), "the fetch did not finish");
    assert!(
        finished.contains("==> fetching slow-1.0.tar.gz"),
        "{finished}"
    );
    assert!(
        !finished.contains("iB/"),
        "the bar must be cleared when done:\n{finished}"
    );
    assert!(ctx.distfiles.join("slow-1.0.tar.gz").is_file());

    // Piped: the same download shows no bar.
    fs::remove_file(ctx.distfiles.join("slow-1.0.tar.gz")).unwrap();
    let out = ctx.run(&["fetch", "slow"]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("==> fetching slow-1.0.tar.gz"), "{err}");
    assert!(
        !err.contains("iB/") && !err.contains('\r') && !err.contains('\u{1b}'),
        "no bar or escape codes when piped:\n{err:?}"
    );
}
