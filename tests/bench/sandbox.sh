#!/usr/bin/env bash
# Sandbox cost: build every port of the real tree with and without the
# build sandbox, alternating per port in one run, and print the ratio of the
# totals (target: <= 1.05). Not a timed test: it reports and exits 0.
#
#   tests/bench/sandbox.sh            # GPORT_BENCH_RUNS=2 by default
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${GPORT_BENCH_RUNS:-2}
work=${GPORT_BENCH_DIR:-/tmp/gport-bench-sandbox}
store=${GPORT_DISTFILES:-/var/cache/gport/distfiles}
. tests/bench/lib.sh
ignore_gport_env
build_gport
gport=$BIN
rm -rf "$work"
mkdir -p "$work/on/etc" "$work/off/etc"
echo "sandbox = true" > "$work/on/etc/gport.conf"
echo "sandbox = false" > "$work/off/etc/gport.conf"
g() { "$gport" -q --tree . --distfiles "$store" --root "$work/$1" --workdir "$work/w-$1" "${@:2}"; }
# libarchive links bzip2 and xz: install them in both roots first (untimed).
for m in on off; do g "$m" install bzip2 xz 2>/dev/null; done

ports=$(for d in gports/*/ base/*/; do basename "$d"; done)
declare -A t_on t_off
now() { date +%s.%N; }
for p in $ports; do
	t_on[$p]=0
	t_off[$p]=0
	for r in $(seq "$runs"); do
		# Alternate which goes first, so caches favour neither.
		order="on off"
		[ $((r % 2)) -eq 0 ] && order="off on"
		for m in $order; do
			s=$(now)
			g "$m" build "$p" >/dev/null 2>&1
			e=$(now)
			if [ "$m" = on ]; then
				t_on[$p]=$(echo "${t_on[$p]} + $e - $s" | bc -l)
			else
				t_off[$p]=$(echo "${t_off[$p]} + $e - $s" | bc -l)
			fi
		done
	done
done
total_on=0
total_off=0
printf '%-12s %12s %12s %8s\n' port sandbox no-sandbox ratio
for p in $ports; do
	on=$(echo "${t_on[$p]} / $runs" | bc -l)
	off=$(echo "${t_off[$p]} / $runs" | bc -l)
	total_on=$(echo "$total_on + $on" | bc -l)
	total_off=$(echo "$total_off + $off" | bc -l)
	printf '%-12s %11.2fs %11.2fs %8.3f\n' "$p" "$on" "$off" "$(echo "$on / $off" | bc -l)"
done
ratio=$(echo "$total_on / $total_off" | bc -l)
verdict=MISS
[ "$(echo "$ratio <= 1.05" | bc -l)" = 1 ] && verdict=PASS
printf '%-12s %11.2fs %11.2fs %8.3f  target <= 1.05: %s\n' TOTAL "$total_on" "$total_off" "$ratio" "$verdict"
