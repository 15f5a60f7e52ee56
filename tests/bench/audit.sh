#!/usr/bin/env bash
# Patch-audit benchmark: `gport audit` of a whole generated tree vs the naive
# way (extract each source fully, then `patch --dry-run` each patch).
#
#   tests/bench/audit.sh
#
# The tree: GPORT_BENCH_PORTS (default 220) ports over the real upstream
# tarballs of the seeded distfiles store; port k uses tarball k mod N, as
# the original file (same name, sha256 and size), with the `[build] srcdir`
# of the tree's real port for that tarball when it has one, and 1-4
# generated patches. Each patch changes or adds one line in one real text
# file of that tarball (files picked uniformly over the archive's listing,
# so most lie anywhere in the archive, not only at its start; the patches
# of one port touch different files), made with `diff -u` (a/ b/ prefixes,
# strip 1), under a complete DEP-3 header (Description, Origin, Forwarded,
# Author, Last-Update). Generation is not timed; the tree is kept and reused.
#
# Measures (warm page cache, hyperfine):
#   gport:  `gport --tree T --distfiles S -j 2 audit` (whole tree: verifies
#           every tarball by sha256, then reads only the patched files out
#           of the compressed stream, stopping once all were seen).
#   naive:  a bash loop, one port after another: `tar -xf` the tarball into
#           a fresh temp dir (GNU tar runs gzip/xz/bzip2 as a child), then
#           `patch --dry-run -p1 -d SRCDIR -i P` for each patch, then
#           `rm -rf` the temp dir.        Target: naive / gport >= 5x.
#   naive, parallel: the same per-port job under `xargs -P 2` (info).
# The naive way does not verify checksums; gport does (it never reads an
# unverified file), so the comparison favours the naive way.
#
# It builds gport (release), installs missing tools with apt-get, prints a
# table with PASS/MISS and exits 0 whatever the figures: it reports, it does
# not gate. It exits non-zero only when it cannot measure (including when
# gport audit or the naive loop fails on the generated tree).
#
# Environment:
#   GPORT_BENCH_AUDIT_DIR  work dir (default /tmp/gport-bench-audit); the
#                          generated tree is kept there and reused
#   GPORT_DISTFILES        seeded store to take real tarballs from
#                          (default /var/cache/gport/distfiles)
#   GPORT_BENCH_PORTS      ports in the generated tree (default 220)
#   GPORT_BENCH_RUNS       hyperfine runs of gport audit (default 10)
#   GPORT_BENCH_NAIVE_RUNS hyperfine runs of each naive command (default 3)
#   GPORT_BENCH_IDLE_WAIT  seconds to wait, before timing, for the 1-minute
#                          load average to drop below 1 (checked every 30 s;
#                          default 900, 0 = do not wait)
#   GPORT_BENCH_FRESH=1    regenerate the tree
#   GPORT_BENCH_EXTRACT_DIR  where the naive way extracts (default: a
#                          directory in /dev/shm when that is a tmpfs, else
#                          WORK/extract; see docs/benchmarks.md, install
#                          path, on disk file systems)

set -euo pipefail

# REPO, ignore_gport_env, say, die, want, install_wanted, build_gport.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WORK=${GPORT_BENCH_AUDIT_DIR:-/tmp/gport-bench-audit}
SEED=${GPORT_DISTFILES:-/var/cache/gport/distfiles}
NPORTS=${GPORT_BENCH_PORTS:-220}
RUNS=${GPORT_BENCH_RUNS:-10}
NAIVE_RUNS=${GPORT_BENCH_NAIVE_RUNS:-3}
IDLE_WAIT=${GPORT_BENCH_IDLE_WAIT:-900}
FRESH=${GPORT_BENCH_FRESH:-0}
JOBS=2
GEN_VERSION=1   # bump when the generator changes: forces regeneration

ignore_gport_env

# --- tools -------------------------------------------------------------------
want hyperfine hyperfine
want patch patch
want diff diffutils
want xargs findutils
want xz xz-utils
want bzip2 bzip2
want gzip gzip
want python3 python3
want sha256sum coreutils
install_wanted
probe=$(tar --version 2>/dev/null || true)
[[ $probe == *"GNU tar"* ]] || die "GNU tar is required"
probe=$(patch --version 2>/dev/null || true)
[[ $probe == *"GNU patch"* ]] || die "GNU patch is required"
((NPORTS >= 200)) || say "note: GPORT_BENCH_PORTS=$NPORTS is below the 200 the benchmark asks for"

# --- gport -------------------------------------------------------------------
build_gport

# --- layout ------------------------------------------------------------------
GEN=$WORK/gen                 # generator's scratch (pristine trees), kept
TREE=$WORK/tree               # the generated ports tree, kept
STORE=$WORK/store             # copies of the seeded tarballs
MANIFEST=$WORK/manifest       # one line per port: NAME FILE SRCDIR PATCH...
STAMP=$WORK/tree.stamp
if [ -n "${GPORT_BENCH_EXTRACT_DIR:-}" ]; then
    XDIR=$GPORT_BENCH_EXTRACT_DIR
elif [ "$(stat -f -c %T /dev/shm 2>/dev/null)" = tmpfs ] && [ -w /dev/shm ]; then
    XDIR=/dev/shm/gport-bench-audit-extract
else
    XDIR=$WORK/extract
fi
RES=$WORK/results
mkdir -p "$WORK/root" "$WORK/gwork" "$STORE" "$XDIR" "$RES"
XFS=$(stat -f -c %T "$XDIR")
rm -f "$RES"/*
GP="$BIN --root $WORK/root --tree $TREE --distfiles $STORE --workdir $WORK/gwork -j $JOBS"
HF=(hyperfine --style basic --shell bash)

mapfile -t seeds < <(find "$SEED" -maxdepth 1 -type f \
    \( -name '*.tar.*' -o -name '*.tgz' -o -name '*.tbz2' -o -name '*.txz' \) | sort)
((${#seeds[@]})) || die "no tarballs in $SEED"
for s in "${seeds[@]}"; do
    cmp -s "$s" "$STORE/$(basename "$s")" 2>/dev/null || cp -f "$s" "$STORE/"
done

# --- generation (not timed; cached) -----------------------------------------
want_stamp=$({
    echo "gen=$GEN_VERSION ports=$NPORTS"
    for s in "${seeds[@]}"; do echo "$(basename "$s") $(stat -c %s "$s")"; done
    cat "$REPO"/gports/*/port.toml "$REPO"/base/*/port.toml 2>/dev/null || true
} | sha256sum | cut -d' ' -f1)
if [ "$FRESH" = 1 ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want_stamp" ] ||
    [ ! -s "$MANIFEST" ]; then
    say "generating a tree of $NPORTS ports over ${#seeds[@]} real tarballs"
    rm -rf "$TREE" "$GEN" "$MANIFEST" "$STAMP"
    mkdir -p "$TREE/gports" "$TREE/base" "$GEN"
    python3 - "$REPO" "$TREE" "$GEN" "$MANIFEST" "$NPORTS" "${seeds[@]}" <<'EOF'
import hashlib, os, random, re, subprocess, sys

repo, tree, gen, manifest, nports = sys.argv[1:6]
nports = int(nports)
seeds = sys.argv[6:]

try:
    import tomllib
except ImportError:
    tomllib = None

def real_ports():
    """sha256 -> (name, version, srcdir or None) for the tree's real ports."""
    out = {}
    for top in ("gports", "base"):
        d = os.path.join(repo, top)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d)):
            f = os.path.join(d, name, "port.toml")
            if not os.path.isfile(f):
                continue
            text = open(f, encoding="utf-8").read()
            if tomllib:
                t = tomllib.loads(text)
                version = t.get("version", "1.0")
                srcdir = t.get("build", {}).get("srcdir")
                shas = [s["sha256"] for s in t.get("source", [])]
            else:
                m = re.search(r'^version\s*=\s*"([^"]+)"', text, re.M)
                version = m.group(1) if m else "1.0"
                m = re.search(r'^srcdir\s*=\s*"([^"]+)"', text, re.M)
                srcdir = m.group(1) if m else None
                shas = re.findall(r'^sha256\s*=\s*"([0-9a-f]{64})"', text, re.M)
            for s in shas:
                out[s] = (name, version, srcdir)
    return out

SAFE = re.compile(r"^[A-Za-z0-9._+/-]+$")

def candidates(tarball, pristine, srcdir):
    """Regular text files under srcdir, in archive order: (rel, path)."""
    names = subprocess.run(["tar", "-tf", tarball], check=True,
                           capture_output=True, text=True).stdout.splitlines()
    verbose = subprocess.run(["tar", "-tvf", tarball], check=True,
                             capture_output=True, text=True).stdout.splitlines()
    assert len(names) == len(verbose), tarball
    seen = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    out = []
    prefix = srcdir.rstrip("/") + "/"
    for n, v in zip(names, verbose):
        if not v.startswith("-") or seen[n] != 1 or not SAFE.match(n):
            continue
        if not n.startswith(prefix) or "/../" in n or n.startswith("/"):
            continue
        p = os.path.join(pristine, n)
        if os.path.islink(p) or not os.path.isfile(p):
            continue
        size = os.path.getsize(p)
        if size < 200 or size > 256 * 1024:
            continue
        data = open(p, "rb").read()
        if not data.endswith(b"\n") or b"\r" in data or b"\0" in data:
            continue
        try:
            data.decode("ascii")
        except UnicodeDecodeError:
            continue
        if data.count(b"\n") < 5:
            continue
        out.append((n[len(prefix):], p))
    return out

reals = real_ports()
bases = []   # per tarball: file, sha256, size, version, srcdir (as given), srcdir for the manifest, candidates
for t in seeds:
    file = os.path.basename(t)
    data = open(t, "rb").read()
    sha = hashlib.sha256(data).hexdigest()
    stem = re.sub(r"\.(tar\.[a-z0-9]+|tgz|tbz2|txz)$", "", file)
    pristine = os.path.join(gen, "pristine", stem)
    os.makedirs(pristine)
    subprocess.run(["tar", "-xf", t, "-C", pristine], check=True)
    real = reals.get(sha)
    version = real[1] if real else "1.0"
    srcdir = real[2] if real else None
    if srcdir:
        effective = srcdir
    else:
        tops = os.listdir(pristine)
        if len(tops) != 1 or not os.path.isdir(os.path.join(pristine, tops[0])):
            sys.exit("%s: no single top-level directory and no srcdir" % file)
        effective = tops[0]
    cands = candidates(t, pristine, effective)
    if len(cands) < 8:
        sys.exit("%s: only %d usable text files" % (file, len(cands)))
    short = re.sub(r"[^a-z0-9]+", "", stem.split("-")[0].lower()) or "src"
    bases.append(dict(file=file, sha=sha, size=len(data), version=version,
                      srcdir=srcdir, effective=effective, cands=cands, short=short))

def modify(lines, rng, tag):
    """Change one line or add one; never produce a removed line that looks
    like a file header (`--- `)."""
    for _ in range(100):
        i = rng.randrange(len(lines))
        if rng.random() < 0.5:
            return lines[:i + 1] + [b"gport-bench: added by %s\n" % tag] + lines[i + 1:]
        if lines[i].startswith((b"-", b"+")):
            continue
        return lines[:i] + [lines[i].rstrip(b"\n") + b" gport-bench: %s\n" % tag] + lines[i + 1:]
    raise SystemExit("no line to change")

total_patches = 0
with open(manifest, "w") as man:
    for k in range(nports):
        b = bases[k % len(bases)]
        rng = random.Random("gport-audit-bench-%d" % k)
        name = "p%03d-%s" % (k, b["short"])
        pdir = os.path.join(tree, "gports", name)
        os.makedirs(os.path.join(pdir, "patches"))
        npatch = 1 + (k // len(bases) + k) % 4
        # Uniform over the archive's listing: most files lie well inside it.
        picks = rng.sample(range(len(b["cands"])), npatch)
        patches = []
        for j, ci in enumerate(picks):
            rel, path = b["cands"][ci]
            lines = open(path, "rb").read().splitlines(keepends=True)
            tag = b"%s patch %d" % (name.encode(), j + 1)
            new = modify(lines, rng, tag)
            mod = os.path.join(gen, "modified")
            with open(mod, "wb") as f:
                f.writelines(new)
            d = subprocess.run(["diff", "-u", "--label", "a/" + rel, "--label", "b/" + rel,
                                path, mod], capture_output=True)
            if d.returncode != 1:
                sys.exit("diff -u failed on %s" % path)
            pname = "%02d-%s.patch" % (j + 1, re.sub(r"[^A-Za-z0-9.+-]+", "-", rel))
            header = ("Description: Benchmark change to %s (%s, patch %d)\n"
                      "Origin: other, generated by tests/bench/audit.sh\n"
                      "Forwarded: not-needed\n"
                      "Author: gport benchmark\n"
                      "Last-Update: 2024-01-01\n"
                      "\n" % (rel, name, j + 1)).encode()
            with open(os.path.join(pdir, "patches", pname), "wb") as f:
                f.write(header + d.stdout)
            patches.append(pname)
        total_patches += len(patches)
        toml = ['name = "%s"' % name,
                'version = "%s"' % b["version"],
                'summary = "audit benchmark input"',
                'homepage = "https://example.invalid/"',
                'license = "MIT"',
                '',
                '[[source]]',
                'urls = ["https://example.invalid/%s"]' % b["file"],
                'file = "%s"' % b["file"],
                'sha256 = "%s"' % b["sha"],
                'size = %d' % b["size"]]
        for p in patches:
            toml += ['', '[[patch]]', 'file = "%s"' % p]
        if b["srcdir"]:
            toml += ['', '[build]', 'srcdir = "%s"' % b["srcdir"]]
        with open(os.path.join(pdir, "port.toml"), "w") as f:
            f.write("\n".join(toml) + "\n")
        open(os.path.join(pdir, "build.sh"), "w").close()
        man.write(" ".join([name, b["file"], b["effective"]] + patches) + "\n")
print("generated %d ports, %d patches" % (nports, total_patches), file=sys.stderr)
EOF
    rm -rf "$GEN/pristine" "$GEN/modified"
    echo "$want_stamp" >"$STAMP"
fi

# --- the naive way -----------------------------------------------------------
# One script: with arguments it checks one port (NAME FILE SRCDIR PATCH...),
# without it loops over the manifest on stdin, one port after another.
NAIVE=$WORK/naive.sh
cat >"$NAIVE" <<EOF
#!/usr/bin/env bash
# Naive patch check: extract fully, then patch --dry-run each patch.
set -euo pipefail
one() {
    local name=\$1 file=\$2 srcdir=\$3 d p
    shift 3
    d=\$(mktemp -d -p "$XDIR")
    tar -xf "$STORE/\$file" -C "\$d"
    for p in "\$@"; do
        patch --dry-run -s -p1 -d "\$d/\$srcdir" -i "$TREE/gports/\$name/patches/\$p" >/dev/null
    done
    rm -rf "\$d"
}
if [ \$# -gt 0 ]; then
    one "\$@"
else
    while read -r line; do
        one \$line
    done
fi
EOF
chmod +x "$NAIVE"
NAIVE_SEQ="$NAIVE <$MANIFEST"
NAIVE_PAR="xargs -P $JOBS -L 1 $NAIVE <$MANIFEST"

# --- correctness checks before timing ----------------------------------------
say "checking: gport audit passes on the generated tree"
$GP audit --strict --json >"$RES/audit.json" 2>"$RES/audit.err" ||
    { tail -n 20 "$RES/audit.err" >&2; die "gport audit failed on the generated tree (see $RES/audit.json)"; }
python3 - "$RES/audit.json" "$MANIFEST" <<'EOF' || die "gport audit did not check what was generated"
import json, sys
a = json.load(open(sys.argv[1]))
man = [l.split() for l in open(sys.argv[2])]
want = sum(len(l) - 3 for l in man)
s = a["summary"]
statuses = {}
for p in a["ports"]:
    assert p["error"] is None, p
    for r in p["patches"]:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
print("gport audit: %d ports, %d patches, statuses %s, failing %d, incomplete headers %d" % (
    s["ports"], s["patches"], statuses, s["failing"], s["incomplete_headers"]), file=sys.stderr)
assert s["ports"] == len(man) and s["patches"] == want
assert statuses.get("applies", 0) == want
EOF
say "checking: the naive loop passes on the generated tree"
bash -c "$NAIVE_SEQ" || die "the naive loop failed on the generated tree"
[ -z "$(ls -A "$XDIR")" ] || die "the naive loop left files in $XDIR"

# --- figures about the inputs ------------------------------------------------
python3 - "$MANIFEST" "$STORE" >"$RES/inputs.txt" <<'EOF'
import os, subprocess, sys
man = [l.split() for l in open(sys.argv[1])]
store = sys.argv[2]
files = {}
for l in man:
    files[l[1]] = files.get(l[1], 0) + 1
comp = sum(os.path.getsize(os.path.join(store, f)) * n for f, n in files.items())
raw = {}
for f in files:
    p = subprocess.run("tar -xOf %s | wc -c" % os.path.join(store, f), shell=True,
                       check=True, capture_output=True, text=True)
    raw[f] = int(p.stdout)
unc = sum(raw[f] * n for f, n in files.items())
print("ports=%d" % len(man))
print("patches=%d" % sum(len(l) - 3 for l in man))
print("tarballs=%d" % len(files))
print("compressed=%d" % comp)
print("uncompressed=%d" % unc)
EOF

# --- wait for a quiet machine ------------------------------------------------
load1() { cut -d' ' -f1 /proc/loadavg; }
idle=yes
if ((IDLE_WAIT > 0)); then
    waited=0
    while awk -v l="$(load1)" 'BEGIN { exit !(l >= 1) }'; do
        if ((waited >= IDLE_WAIT)); then idle=no; break; fi
        say "1-minute load $(load1) >= 1: waiting (${waited}s of ${IDLE_WAIT}s)"
        sleep 30
        waited=$((waited + 30))
    done
fi
load_start=$(load1)
say "1-minute load before timing: $load_start"

# --- timing ------------------------------------------------------------------
# Other processes on the machine distort the figures even after the wait: the
# CPU time the whole machine spent during each timed command, minus what the
# command itself used (hyperfine's user + system, warm-ups included), is
# reported as the others' share.
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
HZ=$(getconf CLK_TCK)
timed() {   # NAME WARMUP RUNS COMMAND
    local b0 b1
    b0=$(busy)
    "${HF[@]}" --warmup "$2" --runs "$3" --export-json "$RES/$1.json" -n "$1" "$4"
    b1=$(busy)
    echo "$1 $(((b1 - b0))) $HZ $(($2 + $3))" >>"$RES/busy.txt"
}
say "timing gport audit ($RUNS runs)"
timed gport 2 "$RUNS" "$GP audit"
say "timing the naive loop, sequential and xargs -P $JOBS ($NAIVE_RUNS runs each)"
timed naive 1 "$NAIVE_RUNS" "$NAIVE_SEQ"
timed naive-parallel 1 "$NAIVE_RUNS" "$NAIVE_PAR"
load_end=$(load1)
rmdir "$XDIR" 2>/dev/null || true

# --- report ------------------------------------------------------------------
{
    echo "nproc=$(nproc)"
    echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    echo "kernel=$(uname -r)"
    echo "gport=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo unknown)"
    echo "tar=$(tar --version | head -n1)"
    echo "patch=$(patch --version | head -n1)"
    echo "gzip=$(gzip --version | head -n1)"
    echo "xz=$(xz --version | head -n1)"
    echo "bzip2=$(bzip2 --help 2>&1 | head -n1)"
    echo "hyperfine=$(hyperfine --version)"
    echo "extract_dir=$XDIR ($XFS)"
    echo "idle=$idle"
    echo "load_start=$load_start"
    echo "load_end=$load_end"
    cat "$RES/inputs.txt"
} >"$RES/machine.txt"

python3 - "$RES" "$JOBS" <<'EOF' | tee "$RES/summary.md"
import json, os, sys
res, jobs = sys.argv[1], sys.argv[2]
def load(name):
    with open(os.path.join(res, name)) as f:
        return {r["command"]: r for r in json.load(f)["results"]}
m = dict(l.rstrip("\n").split("=", 1) for l in open(os.path.join(res, "machine.txt")))
g = load("gport.json")["gport"]
seq = load("naive.json")["naive"]
par = load("naive-parallel.json")["naive-parallel"]
others = {}
for line in open(os.path.join(res, "busy.txt")):
    name, ticks, hz, n = line.split()
    r = {"gport": g, "naive": seq, "naive-parallel": par}[name]
    machine = int(ticks) / int(hz)
    own = (r["user"] + r["system"]) * int(n)
    wall = sum(r["times"]) * int(n) / len(r["times"])
    others[name] = max(0.0, machine - own) / wall   # CPUs, on average
fmt = lambda r: "%.3f s ± %.3f" % (r["mean"], r["stddev"] or 0)
cpu = lambda r: "%.1f s" % (r["user"] + r["system"])
oth = lambda k: "%.2f" % others[k]
print("Machine: %s CPU(s), %s; gport %s; 1-minute load %s before timing, %s after%s" % (
    m["nproc"], m["cpu"], m["gport"], m["load_start"], m["load_end"],
    "" if m["idle"] == "yes" else " (never below 1 within the wait)"))
print("Tree: %s ports, %s patches over %s real tarballs; %.1f MB compressed, %.1f MB uncompressed in total" % (
    m["ports"], m["patches"], m["tarballs"], int(m["compressed"]) / 1e6, int(m["uncompressed"]) / 1e6))
print("Naive extraction destination: %s" % m["extract_dir"])
print()
print("| command | wall time | CPU time (user + sys) | other processes' CPU during it | ratio naive / gport (wall) | target | result |")
print("|---|---|---|---|---|---|---|")
print("| `gport -j %s audit` (whole tree) | %s | %s | %s | — | — | — |" % (jobs, fmt(g), cpu(g), oth("gport")))
r = seq["mean"] / g["mean"]
print("| naive: `tar -xf` + `patch --dry-run`, sequential | %s | %s | %s | %.1f× | ≥ 5× | %s |" % (
    fmt(seq), cpu(seq), oth("naive"), r, "PASS" if r >= 5 else "MISS"))
r = par["mean"] / g["mean"]
print("| naive, `xargs -P %s` | %s | %s | %s | %.1f× | — | (info) |" % (jobs, fmt(par), cpu(par), oth("naive-parallel"), r))
print()
print("Other processes' CPU: the machine's busy CPU time during each timed command minus the")
print("command's own, per second of wall time (0 = a quiet machine, 1 = one of the %s CPUs taken)." % m["nproc"])
print()
print("Tools: %s; %s; %s; %s; %s; %s" % (m["tar"], m["patch"], m["gzip"], m["xz"], m["bzip2"], m["hyperfine"]))
EOF
say "raw results in $RES (hyperfine JSON, gport audit --json, busy.txt, summary.md)"
exit 0
