# Shared by the benchmark scripts in this directory: sourced, not run.
#
#   . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#
# Sets REPO (the repository root) and defines:
#   ignore_gport_env      unset the GPORT_* variables gport reads (call it
#                         after reading the script's own settings, some of
#                         which share those names): benchmarks pass every
#                         setting as a flag
#   say MSG...            a progress line on stderr
#   die MSG...            an error naming the script on stderr, exit 2
#   want CMD PKG          note Debian package PKG if command CMD is missing
#   install_wanted        apt-get install what `want` noted (sudo unless root)
#   build_gport           cargo build --release; sets BIN to the binary
#   free_port             print a free TCP port on the loopback
#   wait_for_url URL      wait until URL answers (10 s at most; 1 if not)

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

ignore_gport_env() {
    unset GPORT_ROOT GPORT_TREE GPORT_CONFIG GPORT_DISTFILES GPORT_WORKDIR \
        GPORT_MIRRORS GPORT_JOBS
}

say() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "$(basename "$0")" "$*" >&2; exit 2; }

WANTED=()
want() { command -v "$1" >/dev/null || [ -x "$1" ] || WANTED+=("$2"); }

install_wanted() {
    ((${#WANTED[@]})) || return 0
    say "installing ${WANTED[*]}"
    local sudo=
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    # Debian starts services on installation unless policy-rc.d says no; a
    # benchmark that needs a server runs its own, so a packaged service may
    # stay stopped (or run on its default port: it is not used).
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${WANTED[@]}" >/dev/null
}

build_gport() {
    say "building gport (release)"
    (cd "$REPO" && cargo build --release --locked --quiet)
    local target
    target=$(cd "$REPO" && cargo metadata --format-version 1 --no-deps |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
    BIN=$target/release/gport
    [ -x "$BIN" ] || die "no binary at $BIN"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_url() {
    python3 - "$1" <<'EOF'
import sys, time, urllib.request
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1).read()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}
