#!/usr/bin/env bash
# Mirror-sync benchmark: `gport mirror sync` vs `wget -m`, the same mirror
# served by the same static HTTP server on the loopback, in one run.
#
#   tests/bench/mirror.sh
#
# Measures (warm page cache on both sides; the server reads from it too):
#   1. Full sync of a mirror of 2,000 files (~130 MB of random bytes, sizes
#      log-normal: median ~15 kB, largest 8 MB, in 20 subdirectories) into an
#      empty directory: `gport -j 4 mirror sync URL DEST` vs
#      `wget -m -np -nH -q -P DEST URL/` (wget crawls the server's directory
#      listings).                         Target: gport's time <= wget's.
#   2. No-op re-sync of the populated directory: the same commands again.
#      gport fetches INDEX and stats the files; wget -m (timestamping) asks
#      the server for every file (If-Modified-Since) and every listing.
#                                          Target: gport >= 50x faster.
# Both are measured twice: writing to tmpfs (/dev/shm), which measures the
# tools, and writing to the work dir's disk file system, where gport pays for
# its fsyncs (each file and its directory) and where file creation depends on
# the file system's state (see the note in docs/benchmarks.md).
# Before timing, it checks that gport's copy is byte-identical to the source,
# that wget fetched all the files, and that neither re-sync rewrote a file.
#
# Server: nginx (Debian's package, installed with apt-get if missing), run in
# the foreground with a minimal configuration written to the work dir:
# 127.0.0.1, `autoindex on` (so that wget -m can crawl), sendfile, keep-alive,
# access log off. GPORT_BENCH_SERVER=python uses `python3 -m http.server`
# instead (threaded but one Python process: a much slower server).
#
# It builds gport (release), installs missing tools with apt-get, prints a
# table with PASS/MISS per target and exits 0 whatever the figures: it
# reports, it does not gate. It exits non-zero only when it cannot measure.
#
# Environment:
#   GPORT_BENCH_DIR        work dir (default /tmp/bench-mirror): the generated
#                          mirror (kept and reused by later runs), the
#                          destinations, the server's files and raw results
#   GPORT_BENCH_DEST_DIRS  where both tools write their copies, as
#                          space-separated LABEL=DIR (default
#                          "tmpfs=/dev/shm/gport-bench-mirror disk=WORK/dest",
#                          the first only when /dev/shm is a tmpfs); the
#                          copies are deleted afterwards
#   GPORT_BENCH_FILES      number of files (default 2000)
#   GPORT_BENCH_MB         total size in MB, 10^6 bytes (default 130)
#   GPORT_BENCH_SUBDIRS    number of subdirectories (default 20)
#   GPORT_BENCH_JOBS       gport's -j (default 4)
#   GPORT_BENCH_RUNS       hyperfine runs per full-sync command (default 3)
#   GPORT_BENCH_NOOP_RUNS  hyperfine runs per no-op command (default 10)
#   GPORT_BENCH_SERVER     nginx (default) or python
#   GPORT_BENCH_FRESH=1    regenerate the mirror
#
# Sizes: MB = 10^6 bytes, MiB = 2^20 bytes.

set -euo pipefail

# REPO, ignore_gport_env, say, die, want, install_wanted, build_gport.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WORK=${GPORT_BENCH_DIR:-/tmp/bench-mirror}
NFILES=${GPORT_BENCH_FILES:-2000}
TOTAL_MB=${GPORT_BENCH_MB:-130}
NDIRS=${GPORT_BENCH_SUBDIRS:-20}
JOBS=${GPORT_BENCH_JOBS:-4}
RUNS=${GPORT_BENCH_RUNS:-3}
NOOP_RUNS=${GPORT_BENCH_NOOP_RUNS:-10}
SERVER=${GPORT_BENCH_SERVER:-nginx}
FRESH=${GPORT_BENCH_FRESH:-0}

case $SERVER in nginx | python) ;; *) die "GPORT_BENCH_SERVER must be nginx or python" ;; esac

ignore_gport_env

# --- tools -------------------------------------------------------------------
want hyperfine hyperfine
want wget wget
want python3 python3
want diff diffutils
want sha256sum coreutils
if [ "$SERVER" = nginx ] && ! command -v nginx >/dev/null; then
    want /usr/sbin/nginx nginx
fi
install_wanted
NGINX=
if [ "$SERVER" = nginx ]; then
    NGINX=$(command -v nginx || echo /usr/sbin/nginx)
    [ -x "$NGINX" ] || die "nginx is not available (set GPORT_BENCH_SERVER=python)"
fi
probe=$(wget --version 2>/dev/null | head -n1 || true)
[[ $probe == *"GNU Wget"* ]] || die "GNU Wget is required"

# --- gport -------------------------------------------------------------------
build_gport

# --- layout ------------------------------------------------------------------
SRC=$WORK/mirror              # the generated mirror, kept between runs
STAMP=$WORK/mirror.stamp
SRV=$WORK/server              # the server's configuration, pid, logs
RES=$WORK/results
mkdir -p "$WORK" "$SRV" "$RES" "$WORK/root"
rm -f "$RES"/*
# Where the copies are written: LABEL=DIR, each measured in turn.
if [ -n "${GPORT_BENCH_DEST_DIRS:-}" ]; then
    read -r -a DESTS <<<"$GPORT_BENCH_DEST_DIRS"
else
    DESTS=()
    if [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
        DESTS+=(tmpfs=/dev/shm/gport-bench-mirror)
    fi
    DESTS+=(disk=$WORK/dest)
fi
for d in "${DESTS[@]}"; do
    [[ $d == *=/* && ${d%%=*} =~ ^[a-z0-9_-]+$ ]] || die "bad destination '$d' (want LABEL=/ABS/DIR)"
done
GP="$BIN --root $WORK/root --config $WORK/root/gport.conf -q"
: >"$WORK/root/gport.conf"

# --- the mirror --------------------------------------------------------------
want_stamp="files=$NFILES mb=$TOTAL_MB dirs=$NDIRS v=1"
if [ "$FRESH" = 1 ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want_stamp" ] || [ ! -s "$SRC/INDEX" ]; then
    say "generating the mirror: $NFILES files, $TOTAL_MB MB, $NDIRS subdirectories"
    rm -rf "$SRC" "$STAMP"
    mkdir -p "$SRC"
    # Sizes: log-normal (sigma 1.7), scaled to the total, between 64 bytes
    # and 8 MB; a fixed seed, so every run generates the same layout. The
    # bytes come from the OS's random source: nothing compresses.
    python3 - "$SRC" "$NFILES" "$TOTAL_MB" "$NDIRS" <<'EOF'
import os, random, sys
src, n, total, ndirs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]) * 10**6, int(sys.argv[4])
rng = random.Random(20240521)
lo, hi = 64, 8 * 10**6
raw = [rng.lognormvariate(0, 1.7) for _ in range(n)]
# Scale so that the clamped sizes add up to the total.
k = total / sum(raw)
for _ in range(50):
    sizes = [min(hi, max(lo, int(x * k))) for x in raw]
    if sum(sizes) == total:
        break
    k *= total / sum(sizes)
# Put the rounding remainder on the largest file below the cap.
i = max((j for j in range(n) if sizes[j] < hi), key=lambda j: sizes[j])
sizes[i] += total - sum(sizes)
assert lo <= sizes[i] <= hi and sum(sizes) == total
names = ["lib", "tool", "proto", "font", "doc", "data", "util", "net"]
exts = [".tar.gz", ".tar.xz", ".tar.bz2", ".zip", ".tgz"]
for j, size in enumerate(sizes):
    d = os.path.join(src, "dir%02d" % (j % ndirs))
    os.makedirs(d, exist_ok=True)
    name = "%s%s-%d.%d.%d%s" % (rng.choice(names), rng.choice("abcdefghijklmnopqrstuvwxyz"),
                               j, rng.randrange(10), rng.randrange(30), rng.choice(exts))
    with open(os.path.join(d, name), "wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(left, 1 << 20))
            f.write(chunk)
            left -= len(chunk)
EOF
    $GP mirror index "$SRC" || die "gport mirror index failed"
    echo "$want_stamp" >"$STAMP"
fi
src_files=$(find "$SRC" -type f ! -name INDEX | wc -l)
src_bytes=$(find "$SRC" -type f ! -name INDEX -printf '%s\n' | awk '{s+=$1} END {print s+0}')
src_dirs=$(find "$SRC" -mindepth 1 -type d | wc -l)
[ "$src_files" = "$NFILES" ] || die "the mirror has $src_files files, not $NFILES"
# The server reads from the page cache, as the tools' copies do.
cat $(find "$SRC" -type f) >/dev/null

# --- the server --------------------------------------------------------------
PORT=$(free_port)
URL=http://127.0.0.1:$PORT
if [ "$SERVER" = nginx ]; then
    mkdir -p "$SRV/tmp"
    # Workers drop to nobody when started as root: the mirror must be
    # readable by everyone (it is: umask 022 and 0755 directories).
    chmod -R a+rX "$SRC"
    cat >"$SRV/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes auto;
pid $SRV/nginx.pid;
error_log $SRV/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65;
    keepalive_requests 100000;
    client_body_temp_path $SRV/tmp/body;
    proxy_temp_path $SRV/tmp/proxy;
    fastcgi_temp_path $SRV/tmp/fastcgi;
    uwsgi_temp_path $SRV/tmp/uwsgi;
    scgi_temp_path $SRV/tmp/scgi;
    server {
        listen 127.0.0.1:$PORT;
        root $SRC;
        autoindex on;
    }
}
EOF
    "$NGINX" -p "$SRV" -c "$SRV/nginx.conf" -t >/dev/null 2>&1 ||
        die "nginx rejects its configuration: $("$NGINX" -p "$SRV" -c "$SRV/nginx.conf" -t 2>&1)"
    "$NGINX" -p "$SRV" -c "$SRV/nginx.conf" >"$SRV/stdout.log" 2>&1 &
    SERVER_PID=$!
    SERVER_DESC="nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///'), $(nproc) worker(s), sendfile, keep-alive, autoindex"
else
    python3 -m http.server --bind 127.0.0.1 --directory "$SRC" "$PORT" >"$SRV/http.log" 2>&1 &
    SERVER_PID=$!
    SERVER_DESC="python3 -m http.server ($(python3 -V 2>&1)), one process"
fi
cleanup() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
}
trap cleanup EXIT
wait_for_url "$URL/INDEX" || die "the server did not start"

# The files and their change times: a re-sync that rewrites a file changes it.
snapshot() { (cd "$1" && find . -type f ! -name index.html ! -name .gport-mirror.lock \
    ! -name INDEX -printf '%p %s %C@\n' | sort); }

HF=(hyperfine --style basic -N)
labels=()
for dest in "${DESTS[@]}"; do
    label=${dest%%=*}
    dir=${dest#*=}
    labels+=("$label")
    GDEST=$dir/gport          # gport's copy
    WDEST=$dir/wget           # wget's copy
    mkdir -p "$dir"
    fstype=$(findmnt -n -o FSTYPE -T "$dir" 2>/dev/null | head -n1 || true)
    [ -n "$fstype" ] || fstype=$(stat -f -c %T "$dir")
    echo "$label=$dir ($fstype)" >>"$RES/dests.txt"
    GSYNC="$GP -j $JOBS mirror sync $URL $GDEST"
    WSYNC="wget -m -np -nH -q -P $WDEST $URL/"

    # --- correctness, once, before timing --------------------------------
    say "[$label] checking: one full sync with each tool into $dir"
    rm -rf "$GDEST" "$WDEST"
    out=$($GSYNC) || die "gport mirror sync failed: $out"
    [[ $out == "added $NFILES, present 0, conflicts 0, refused 0, failed 0, bytes $src_bytes" ]] ||
        die "unexpected gport summary: $out"
    diff -r -x .gport-mirror.lock -x INDEX "$SRC" "$GDEST" >/dev/null ||
        die "gport's copy differs from the source"
    [ ! -e "$GDEST/.partial" ] || die "gport left .partial behind"
    cmp -s "$SRC/INDEX" "$GDEST/INDEX" && index_same=yes || index_same=no
    $WSYNC || die "wget -m failed (exit $?)"
    wget_files=$(find "$WDEST" -type f ! -name index.html ! -name INDEX | wc -l)
    [ "$wget_files" = "$NFILES" ] || die "wget -m fetched $wget_files files, not $NFILES"
    diff -r -x index.html "$SRC" "$WDEST" >/dev/null || die "wget's copy differs from the source"
    wget_listings=$(find "$WDEST" -type f -name index.html | wc -l)

    say "[$label] checking: one no-op re-sync with each tool"
    gbefore=$(snapshot "$GDEST")
    wbefore=$(snapshot "$WDEST")
    out=$($GSYNC) || die "gport no-op sync failed: $out"
    [[ $out == "added 0, present $NFILES, conflicts 0, refused 0, failed 0, bytes 0" ]] ||
        die "unexpected gport no-op summary: $out"
    $WSYNC || die "wget -m re-sync failed"
    [ "$gbefore" = "$(snapshot "$GDEST")" ] || die "gport's no-op re-sync changed files"
    [ "$wbefore" = "$(snapshot "$WDEST")" ] || die "wget's no-op re-sync rewrote files"
    {
        echo "index_same=$index_same"
        echo "wget_listings=$wget_listings"
    } >"$RES/checks-$label.txt"

    # --- timing ----------------------------------------------------------
    say "[$label] full sync into an empty directory: gport vs wget -m"
    "${HF[@]}" --warmup 1 --runs "$RUNS" --export-json "$RES/full-$label.json" \
        --prepare "rm -rf $GDEST $WDEST" \
        -n gport "$GSYNC" \
        -n wget "$WSYNC"

    say "[$label] no-op re-sync of the populated directory: gport vs wget -m"
    # Both copies are complete after the last full-sync run; make sure.
    $GSYNC >/dev/null
    $WSYNC
    "${HF[@]}" --warmup 3 --runs "$NOOP_RUNS" --export-json "$RES/noop-$label.json" \
        -n gport "$GSYNC" \
        -n wget "$WSYNC"

    # What each no-op does, counted once, not timed.
    if command -v strace >/dev/null; then
        strace -f -c -o "$RES/strace-noop-gport-$label.txt" $GSYNC >/dev/null || true
        strace -f -c -o "$RES/strace-noop-wget-$label.txt" $WSYNC || true
    fi
    rm -rf "$GDEST" "$WDEST"
    [ "$label" = disk ] || rmdir "$dir" 2>/dev/null || true
done
cleanup
trap - EXIT

# --- report ------------------------------------------------------------------
{
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel=$(uname -r)"
    echo "gport=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "wget=$(wget --version | head -n1 | sed 's/ built on.*//')"
    echo "hyperfine=$(hyperfine --version)"
    echo "server=$SERVER_DESC"
    echo "files=$src_files"
    echo "bytes=$src_bytes"
    echo "dirs=$src_dirs"
    echo "jobs=$JOBS"
    echo "labels=${labels[*]}"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg)"
} >"$RES/machine.txt"

python3 - "$RES" <<'EOF' | tee "$RES/summary.md"
import json, os, re, sys
res = sys.argv[1]

def load(name):
    with open(os.path.join(res, name)) as f:
        return {r["command"]: r for r in json.load(f)["results"]}

def kv(name):
    return dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(res, name)) if "=" in l)

def calls(name):
    """Total syscalls and statx-like calls from `strace -c` output."""
    try:
        text = open(os.path.join(res, name)).read()
    except OSError:
        return None
    total = int(re.search(r"^\S+\s+\S+\s+\S+\s+(\d+)\s+(?:\d+\s+)?total$", text, re.M).group(1))
    stat = sum(int(m.group(1)) for m in re.finditer(
        r"^\s*\S+\s+\S+\s+\S+\s+(\d+)\s+(?:\d+\s+)?(?:statx|newfstatat|stat|lstat|fstat)$", text, re.M))
    return total, stat

m = kv("machine.txt")
dests = kv("dests.txt")
verdict = lambda ok: "PASS" if ok else "MISS"
fmt = lambda r: "%.3f s ± %.3f" % (r["mean"], r["stddev"] or 0) if r["mean"] >= 0.1 else \
    "%.1f ms ± %.1f" % (r["mean"] * 1e3, (r["stddev"] or 0) * 1e3)
nbytes = int(m["bytes"])

print("Machine: %s CPU(s), %s; gport %s; load at the end %s" % (m["nproc"], m["cpu"], m["gport"], m["load"]))
print("Mirror: %s files, %.1f MB, %s subdirectories; server: %s" % (
    m["files"], nbytes / 1e6, m["dirs"], m["server"]))
for label in m["labels"].split():
    print("Destination %s: %s" % (label, dests[label]))
print()
print("| measure | destination | gport (-j %s) | wget -m | ratio | target | result |" % m["jobs"])
print("|---|---|---|---|---|---|---|")
for label in m["labels"].split():
    full = load("full-%s.json" % label)
    g, w = full["gport"], full["wget"]
    print("| full sync into an empty directory | %s | %s (%.0f MB/s) | %s (%.0f MB/s) | %.2f× faster | ≥ 1.0× | %s |" % (
        label, fmt(g), nbytes / g["mean"] / 1e6, fmt(w), nbytes / w["mean"] / 1e6,
        w["mean"] / g["mean"], verdict(g["mean"] <= w["mean"])))
for label in m["labels"].split():
    noop = load("noop-%s.json" % label)
    g, w = noop["gport"], noop["wget"]
    r = w["mean"] / g["mean"]
    print("| no-op re-sync | %s | %s | %s | %.1f× faster | ≥ 50× | %s |" % (
        label, fmt(g), fmt(w), r, verdict(r >= 50)))
print()
for label in m["labels"].split():
    c = kv("checks-%s.txt" % label)
    print("[%s] checked before timing: gport's copy is byte-identical to the source (diff -r; "
          "its INDEX %s the source's); wget fetched all %s files (and %s directory listings); "
          "neither no-op re-sync rewrote a file." % (
          label, "equals" if c["index_same"] == "yes" else "differs from", m["files"],
          c["wget_listings"]))
    g, w = calls("strace-noop-gport-%s.txt" % label), calls("strace-noop-wget-%s.txt" % label)
    if g and w:
        print("[%s] syscalls of one no-op (strace -c -f): gport %d (%d stat calls), wget %d (%d stat calls)" % (
            label, g[0], g[1], w[0], w[1]))
print("Tools: %s; %s" % (m["wget"], m["hyperfine"]))
EOF
say "raw results in $RES (hyperfine JSON, strace -c of each no-op, summary.md)"
exit 0
