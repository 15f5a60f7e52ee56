//! Manual pages render with man(1); completions load in bash.

use std::process::Command;

#[test]
fn man_pages_render() {
    let out = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_gport"))
        .args(["man", "--out"])
        .arg(out.path())
        .status()
        .unwrap();
    assert!(status.success());
    for (page, needles) in [
        (
            "man1/gport.1",
            &[
                "SYNOPSIS",
                "install",
                "rollback",
                "EXIT STATUS",
                "GPORT_ROOT",
            ][..],
        ),
        ("man5/gports.5", &["port.toml", "DESTDIR", "Forwarded"][..]),
        ("man5/gport.conf.5", &["distfiles", "etc/examples"][..]),
    ] {
        let r = Command::new("man")
            .arg("-l")
            .arg(out.path().join(page))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&r.stdout);
        assert!(
            r.status.success(),
            "man -l {page} failed: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        assert!(
            r.stderr.is_empty(),
            "man -l {page} warned: {}",
            String::from_utf8_lossy(&r.stderr)
        );
        for n in needles {
            assert!(text.contains(n), "{page} lacks {n:?}:\n{text}");
        }
    }
}

#[test]
fn bash_completion_loads_and_completes() {
    let script = format!(
        "source <('{}' completions bash) && complete -p gport && COMP_WORDS=(gport ins) && COMP_CWORD=1 && _gport gport ins gport && printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        env!("CARGO_BIN_EXE_gport")
    );
    let out = Command::new("bash").args(["-c", &script]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("-F _gport gport") && text.lines().any(|l| l == "install"),
        "{text}"
    );
}
