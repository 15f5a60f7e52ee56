#!/usr/bin/env bash
# Activation benchmark: switching a package between two installed builds, and
# its first activation, with gport and with GNU Stow on the same trees in one
# run.
#
#   tests/bench/switch.sh
#
# Measures (all on a warm page cache, builds not timed):
#   1. Switching a package of N files (N = 1,000, 10,000, 100,000, all under
#      bin/) between two versions with identical file lists and different
#      contents: `gport switch bench 2.0` (from 1.0) vs
#      `stow --no-folding -D bench-1.0 -S bench-2.0` (Stow's delete + stow, in
#      one invocation) on the very same build trees (Stow's dir is gport's
#      store, gales/pkg).                 Target: >= 100x faster at 10,000.
#      Next to each timing, the file-system changes of one switch, counted
#      with strace: gport's should stay constant (one rename of the pointer)
#      whatever N.
#   2. The same at 10,000 files with file lists that differ by 10 %: 9,000
#      shared paths, 1,000 of each version's own.         (information)
#   3. First activation of a 10,000-file build: `gport switch bench 1.0` on a
#      root where bench-1.0 is installed but inactive (no pointer, no links)
#      vs `stow --no-folding bench-1.0` into an empty target.
#                                          Target: >= 10x faster.
#
# It builds gport (release), installs missing tools with apt-get, prints a
# table with PASS/MISS per target and exits 0 whatever the figures: it
# reports, it does not gate. It exits non-zero only when it cannot measure.
#
# Environment:
#   GPORT_BENCH_DIR        work dir (default /tmp/gport-bench-switch): trees,
#                          distfile and raw results
#   GPORT_BENCH_ROOT_DIR   where the roots (builds, links, Stow targets) live
#                          (default: a directory in /dev/shm when that is a
#                          tmpfs, else WORK/roots); emptied at the start
#   GPORT_BENCH_SIZES      file counts for measure 1 (default
#                          "1000 10000 100000")
#   GPORT_BENCH_RUNS       hyperfine runs per gport command (default 10)
#   GPORT_BENCH_STOW_RUNS  hyperfine runs per Stow command (default 5; 3 at
#                          100,000 files or more, where one takes ~20 s)
#   GPORT_BENCH_KEEP=1     keep the roots afterwards
#
# Why tmpfs by default: on a disk file system, creating and deleting tens of
# thousands of symlinks over and over measures the file system's state more
# than the tool (on ext4, after a few delete cycles, each of Stow's symlink(2)
# calls took ~0.5 ms in inode allocation, against ~0.02 ms fresh). On tmpfs
# both tools are measured, not the disk; gport's directory fsyncs cost nothing
# there, which the file-system-change counts make up for: they show what each
# tool writes. Set GPORT_BENCH_ROOT_DIR to a disk directory to measure that
# case anyway.

set -euo pipefail

# REPO, ignore_gport_env, say, die, want, install_wanted, build_gport.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WORK=${GPORT_BENCH_DIR:-/tmp/gport-bench-switch}
SIZES=${GPORT_BENCH_SIZES:-"1000 10000 100000"}
RUNS=${GPORT_BENCH_RUNS:-10}
STOW_RUNS=${GPORT_BENCH_STOW_RUNS:-}
KEEP=${GPORT_BENCH_KEEP:-0}
DIFF_N=10000      # measure 2
FIRST_N=10000     # measure 3

ignore_gport_env

# --- tools -------------------------------------------------------------------
want hyperfine hyperfine
want stow stow
want strace strace
want python3 python3
want awk gawk
install_wanted
probe=$(stow --version 2>/dev/null || true)
[[ $probe == *"GNU Stow"* ]] || die "GNU Stow is required"

# --- gport -------------------------------------------------------------------
build_gport

# --- layout ------------------------------------------------------------------
if [ -n "${GPORT_BENCH_ROOT_DIR:-}" ]; then
    RDIR=$GPORT_BENCH_ROOT_DIR
elif [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
    RDIR=/dev/shm/gport-bench-switch
else
    RDIR=$WORK/roots
fi
TREES=$WORK/trees             # one ports tree per package version
STORE=$WORK/distfiles         # the one tiny distfile every version uses
GWORK=$WORK/gport-work        # gport's build dir
RES=$WORK/results
rm -rf "$RDIR" "$TREES" "$GWORK"
mkdir -p "$RDIR" "$TREES" "$STORE" "$GWORK" "$RES"
RFS=$(stat -f -c %T "$RDIR")
rm -f "$RES"/*
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
HF=(hyperfine --style basic -N)
NAME=bench

# shellcheck disable=SC2317  # (run by the trap)
cleanup() { [ "$KEEP" = 1 ] || rm -rf "$RDIR"; }
trap cleanup EXIT

# The source: a tarball holding one README; the build script generates the files.
SRC=$STORE/bench-src.tar
if [ ! -s "$SRC" ]; then
    mkdir -p "$WORK/src/bench-src"
    echo "gport switch benchmark input" >"$WORK/src/bench-src/README"
    tar --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$SRC" -C "$WORK/src" bench-src
    rm -rf "$WORK/src"
fi
SRC_SHA=$(sha256sum "$SRC" | cut -d' ' -f1)
SRC_SIZE=$(stat -c %s "$SRC")

# write_tree TREE VERSION SHARED OWN PREFIX: a tree whose port `bench` of
# VERSION installs SHARED files bin/fNNNNNN plus OWN files bin/PREFIXNNNNNN,
# each holding "bench VERSION FILE" (so every file differs between versions).
write_tree() {
    local dir=$TREES/$1/gports/$NAME
    mkdir -p "$dir"
    cat >"$dir/port.toml" <<EOF
name = "$NAME"
version = "$2"
summary = "benchmark input"
homepage = "https://example.invalid/"
license = "MIT"

[[source]]
urls = ["https://example.invalid/bench-src.tar"]
file = "bench-src.tar"
sha256 = "$SRC_SHA"
size = $SRC_SIZE
EOF
    cat >"$dir/build.sh" <<EOF
d=\$DESTDIR\$PREFIX/bin
mkdir -p "\$d"
cd "\$d"
{ seq -f 'f%06g' 1 $3; seq -f '$5%06g' 1 $4; } |
    awk -v v="\$NAME \$VERSION" '{ print v " " \$0 > \$0; close(\$0) }'
EOF
}

# gp ROOT TREE ARGS...: gport on ROOT with TREE
gp() {
    local root=$1 tree=$2
    shift 2
    "$BIN" --root "$root" --tree "$TREES/$tree" --distfiles "$STORE" --workdir "$GWORK" -q "$@"
}
gp_cmd() { echo "$BIN --root $1 --tree $TREES/$2 --distfiles $STORE --workdir $GWORK -q"; }
# (`[.]gport`: a regex without a backslash, the same through bash and hyperfine)
stow_cmd() { echo "stow --no-folding --ignore=[.]gport -d $1/gales/pkg -t $2/usr"; }

# strace_counts KEY all|changing CMD...: run CMD once under strace -c; record
# KEY_changes (successful calls that change the file system), KEY_failed (such
# calls that failed) and, with `all` (every syscall traced), KEY_all and the
# main read calls. `changing` traces only those calls (Stow at 100,000 files
# makes millions of stat calls: tracing them all would take minutes).
CHANGING=(rename renameat renameat2 symlink symlinkat unlink unlinkat link linkat
    mkdir mkdirat rmdir)
strace_counts() {
    local key=$1 mode=$2 out=$RES/strace-$1.txt filter=()
    shift 2
    if [ "$mode" = changing ]; then
        filter=(--seccomp-bpf -e "trace=$(IFS=,; echo "${CHANGING[*]}")")
    fi
    strace -f -c "${filter[@]}" -o "$out" "$@" >/dev/null
    python3 - "$key" "$out" "${CHANGING[*]}" >>"$RES/counts.txt" <<'EOF'
import sys
key, path, changing = sys.argv[1], sys.argv[2], set(sys.argv[3].split())
calls = {}
for line in open(path):
    f = line.split()
    if len(f) < 5 or not f[3].isdigit() or f[-1] == "total":
        continue
    errors = int(f[4]) if len(f) == 6 else 0
    calls[f[-1]] = (int(f[3]), errors)
ok = sum(c - e for s, (c, e) in calls.items() if s in changing)
failed = sum(e for s, (c, e) in calls.items() if s in changing)
total = sum(c for c, e in calls.values())
detail = " ".join("%s:%d" % (s, c - e) for s, (c, e) in sorted(calls.items())
                  if s in changing and c - e)
stats = sum(calls.get(s, (0, 0))[0] for s in ("statx", "newfstatat", "lstat", "stat", "fstatat64"))
print("%s_changes=%d" % (key, ok))
print("%s_failed=%d" % (key, failed))
print("%s_all=%d" % (key, total))
print("%s_stat=%d" % (key, stats))
print("%s_readlink=%d" % (key, calls.get("readlink", (0, 0))[0]))
print("%s_detail=%s" % (key, detail or "-"))
print("%s_faildetail=%s" % (key, " ".join("%s:%d" % (s, e) for s, (c, e) in sorted(calls.items())
                                           if s in changing and e) or "-"))
EOF
}

# check_active ROOT TARGET N VERSION: both tools' links show VERSION's files.
check_active() {
    local g s
    g=$(find "$1/usr/bin" -maxdepth 1 -type l | wc -l)
    s=$(find "$2/usr/bin" -maxdepth 1 -type l | wc -l)
    [ "$g" = "$3" ] || die "gport: $g links in $1/usr/bin, expected $3"
    [ "$s" = "$3" ] || die "stow: $s links in $2/usr/bin, expected $3"
    [ "$(cat "$1/usr/bin/f000001")" = "$NAME $4 f000001" ] || die "gport: $1 is not at $4"
    [ "$(cat "$2/usr/bin/f000001")" = "$NAME $4 f000001" ] || die "stow: $2 is not at $4"
}

stow_runs() {
    if [ -n "$STOW_RUNS" ]; then echo "$STOW_RUNS"
    elif (($1 >= 100000)); then echo 3
    else echo 5
    fi
}

# bench_switch KEY N OWN: two versions with N files, OWN of them their own.
bench_switch() {
    local key=$1 n=$2 own=$3 shared=$(($2 - $3))
    local root=$RDIR/$key/root target=$RDIR/$key/stow
    local t1=$key-1.0 t2=$key-2.0 sruns
    sruns=$(stow_runs "$n")
    write_tree "$t1" 1.0 "$shared" "$own" a
    write_tree "$t2" 2.0 "$shared" "$own" b
    say "$key: building and installing $NAME-1.0 and $NAME-2.0 ($n files each, $own own)"
    mkdir -p "$root" "$target/usr"
    gp "$root" "$t1" install "$NAME"
    if [ "$key" = "same-$FIRST_N" ]; then
        # Measure 3's template: bench-1.0 installed, then deactivated by hand
        # (pointer deleted) and its dangling links removed by check --repair.
        local tmpl=$RDIR/first/template
        mkdir -p "$RDIR/first"
        cp -a "$root" "$tmpl"
        rm "$tmpl/gales/pkg/$NAME"
        gp "$tmpl" "$t1" check --repair >"$RES/first-template-repair.txt" 2>&1 || true
        gp "$tmpl" "$t1" check >/dev/null 2>&1 || die "template root is not consistent"
        [ -z "$(ls -A "$tmpl/usr/bin")" ] || die "template root still has links"
    fi
    gp "$root" "$t2" install "$NAME"
    [ "$(readlink "$root/gales/pkg/$NAME")" = "$NAME-2.0" ] || die "$key: 2.0 is not active"
    gp "$root" "$t1" switch "$NAME" 1.0
    # Stow: the same two build trees, stow dir = gport's store.
    $(stow_cmd "$root" "$target") "$NAME-1.0"
    check_active "$root" "$target" "$n" 1.0

    local G S
    G=$(gp_cmd "$root" "$t1")
    S=$(stow_cmd "$root" "$target")
    say "$key: gport switch 1.0 -> 2.0 ($RUNS runs)"
    "${HF[@]}" --warmup 1 --runs "$RUNS" --export-json "$RES/$key-gport.json" \
        --prepare "$G switch $NAME 1.0" -n gport "$G switch $NAME 2.0"
    say "$key: stow -D $NAME-1.0 -S $NAME-2.0 ($sruns runs)"
    local warm=1
    ((n < 100000)) || warm=0
    "${HF[@]}" --warmup "$warm" --runs "$sruns" --export-json "$RES/$key-stow.json" \
        --prepare "$S -D $NAME-2.0 -S $NAME-1.0" -n stow "$S -D $NAME-1.0 -S $NAME-2.0"
    check_active "$root" "$target" "$n" 2.0
    if [ "$key" = "same-10000" ]; then
        say "$key: stow -D $NAME-1.0 && stow $NAME-2.0, two invocations ($sruns runs)"
        "${HF[@]}" --warmup 1 --runs "$sruns" --export-json "$RES/$key-stow2.json" \
            --prepare "$S -D $NAME-2.0 -S $NAME-1.0" \
            -n stow2 "bash -c '$S -D $NAME-1.0 && $S $NAME-2.0'"
        check_active "$root" "$target" "$n" 2.0
    fi

    say "$key: counting syscalls of one switch 1.0 -> 2.0 (strace -c)"
    # ($G and $S are command lines, split on purpose.)
    gp "$root" "$t1" switch "$NAME" 1.0
    # shellcheck disable=SC2086
    strace_counts "$key-gport" all $G switch "$NAME" 2.0
    $S -D "$NAME-2.0" -S "$NAME-1.0"
    # shellcheck disable=SC2086
    strace_counts "$key-stow" changing $S -D "$NAME-1.0" -S "$NAME-2.0"
    check_active "$root" "$target" "$n" 2.0
    echo "$key=$n $own" >>"$RES/sets.txt"
    [ "$KEEP" = 1 ] || rm -rf "${RDIR:?}/$key"
}

# --- 1. identical file lists, 2. lists differing by 10 % ---------------------
: >"$RES/counts.txt"
: >"$RES/sets.txt"
for n in $SIZES; do
    bench_switch "same-$n" "$n" 0
done
bench_switch "diff-$DIFF_N" "$DIFF_N" $((DIFF_N / 10))

# --- 3. first activation -----------------------------------------------------
FD=$RDIR/first
if [ ! -d "$FD/template" ]; then
    # 10,000 was not among the sizes: make the template on its own.
    write_tree "same-$FIRST_N-1.0" 1.0 "$FIRST_N" 0 a
    mkdir -p "$FD/template"
    gp "$FD/template" "same-$FIRST_N-1.0" install "$NAME"
    rm "$FD/template/gales/pkg/$NAME"
    gp "$FD/template" "same-$FIRST_N-1.0" check --repair >"$RES/first-template-repair.txt" 2>&1 || true
    [ -z "$(ls -A "$FD/template/usr/bin")" ] || die "template root still has links"
fi
T1=same-$FIRST_N-1.0
G=$(gp_cmd "$FD/root" "$T1")
S=$(stow_cmd "$FD/template" "$FD/stow")
say "first activation: gport switch $NAME 1.0 on an inactive install ($RUNS runs)"
"${HF[@]}" --warmup 1 --runs "$RUNS" --export-json "$RES/first-gport.json" \
    --prepare "bash -c 'rm -rf $FD/root && cp -a $FD/template $FD/root'" \
    -n gport "$G switch $NAME 1.0"
FRUNS=$(stow_runs "$FIRST_N")
say "first activation: stow $NAME-1.0 into an empty target ($FRUNS runs)"
"${HF[@]}" --warmup 1 --runs "$FRUNS" --export-json "$RES/first-stow.json" \
    --prepare "bash -c 'rm -rf $FD/stow && mkdir -p $FD/stow/usr'" \
    -n stow "$S $NAME-1.0"
check_active "$FD/root" "$FD/stow" "$FIRST_N" 1.0
say "first activation: counting syscalls (strace -c)"
rm -rf "$FD/root" "$FD/stow" && cp -a "$FD/template" "$FD/root" && mkdir -p "$FD/stow/usr"
# shellcheck disable=SC2086
strace_counts first-gport all $G switch "$NAME" 1.0
# shellcheck disable=SC2086
strace_counts first-stow changing $S "$NAME-1.0"
check_active "$FD/root" "$FD/stow" "$FIRST_N" 1.0

# --- report ------------------------------------------------------------------
{
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel=$(uname -r)"
    echo "gport=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "stow=$(stow --version | head -n1)"
    echo "perl=$(perl -e 'printf "perl %vd", $^V')"
    echo "strace=$(strace -V | head -n1)"
    echo "hyperfine=$(hyperfine --version)"
    echo "root_dir=$RDIR ($RFS)"
    echo "load=$LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
} >"$RES/machine.txt"

python3 - "$RES" "$FIRST_N" <<'EOF' | tee "$RES/summary.md"
import json, os, sys
res, first_n = sys.argv[1], int(sys.argv[2])

def load(name):
    with open(os.path.join(res, name)) as f:
        return json.load(f)["results"][0]

def kv(name):
    return dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(res, name)) if "=" in l)

machine, counts, sets = kv("machine.txt"), kv("counts.txt"), kv("sets.txt")
verdict = lambda ok: "PASS" if ok else "MISS"

def t(r):
    m, sd = r["mean"], r["stddev"] or 0
    if m < 1:
        return "%.1f ms ± %.1f" % (m * 1e3, sd * 1e3)
    return "%.2f s ± %.2f" % (m, sd)

def ch(key):
    c = counts[key + "_changes"]
    return "%s (%s)" % (c, counts[key + "_detail"]) if int(c) <= 3 else c

print("Machine: %s CPU(s), %s, Linux %s; gport %s" %
      (machine["nproc"], machine["cpu"], machine["kernel"], machine["gport"]))
print("Roots (builds, links, Stow targets): %s" % machine["root_dir"])
print("Load average (1, 5, 15 min): %s" % machine["load"])
print()
print("| measure | files | gport | Stow | Stow / gport | target | result | fs changes gport | fs changes Stow | gport syscalls (stat, readlink) |")
print("|---|---|---|---|---|---|---|---|---|---|")

def row(label, key, n, g, s, target):
    r = s["mean"] / g["mean"]
    tgt = "≥ %d×" % target if target else "—"
    res_ = verdict(r >= target) if target else "(info)"
    print("| %s | %s | %s | %s | %.1f× | %s | %s | %s | %s | %s (%s, %s) |" % (
        label, "{:,}".format(n), t(g), t(s), r, tgt, res_,
        ch(key + "-gport"), ch(key + "-stow"), counts[key + "-gport_all"],
        counts[key + "-gport_stat"], counts[key + "-gport_readlink"]))

same = sorted((int(v.split()[0]), k) for k, v in sets.items() if k.startswith("same-"))
for n, key in same:
    row("switch, identical lists: `switch` vs `stow -D -S`", key, n,
        load(key + "-gport.json"), load(key + "-stow.json"), 100 if n == 10000 else None)
    if n == 10000 and os.path.exists(os.path.join(res, key + "-stow2.json")):
        g, s = load(key + "-gport.json"), load(key + "-stow2.json")
        print("| switch, identical lists: `switch` vs `stow -D` && `stow` (two invocations) | 10,000 | %s | %s | %.1f× | — | (info) | | | |" % (
            t(g), t(s), s["mean"] / g["mean"]))
for k, v in sets.items():
    if k.startswith("diff-"):
        n, own = map(int, v.split())
        row("switch, lists differ by %d %%: `switch` vs `stow -D -S`" % (100 * own // n),
            k, n, load(k + "-gport.json"), load(k + "-stow.json"), None)
row("first activation: `switch` (inactive install) vs `stow`", "first", first_n,
    load("first-gport.json"), load("first-stow.json"), 10)
print()
print("fs changes: successful rename/symlink/unlink/link/mkdir/rmdir calls of one run (strace -f -c);")
if same:
    k = same[0][1] + "-gport"
    print("Failed calls of the same kind, not counted: gport's switch at identical lists makes %s (%s)." %
          (counts[k + "_failed"], counts[k + "_faildetail"]))
print()
print("Tools: %s; %s; %s; %s" % (machine["stow"], machine["perl"], machine["strace"], machine["hyperfine"]))
EOF
say "raw results in $RES (hyperfine JSON, strace -c output, summary.md)"
exit 0
