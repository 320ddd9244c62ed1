#!/usr/bin/env bash
# bench/run.sh — `make bench`: every benchmark of docs/PERFORMANCE.md in one
# run, tincan next to runc, crun, podman and containerd, then the report.
# Run as root from the repository root, with ../shared beside it and the
# binaries built (make bench builds them first).
#
#   bench/run.sh
#
# Environment: BENCH_PKGS (the packages with Go benchmarks; make bench
# sets it from the Makefile's list), RUNS (startup and exec runs, default
# 100), DENSITY_N (containers, default 100), BENCHTIME (go test
# -benchtime, default 1s), PULL=0 (skip the image pull benchmark, the
# slowest part), OUT (keep the raw output in this directory instead of a
# scratch one).
#
# Writes bench/results/<date>.json, docs/images/startup-latency.png and the
# generated section of docs/PERFORMANCE.md (bench/cmd/benchreport).
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}/bench
runs=${RUNS:-100} n=${DENSITY_N:-100} benchtime=${BENCHTIME:-1s}
oci=$PWD/bin/tincan-oci
[ -x "$oci" ] || { echo "bench: $oci missing (make build)" >&2; exit 1; }
: "${BENCH_PKGS:?the Go benchmark packages (make bench sets them)}"
[ -x "$shared/startup" ] || { echo "bench: $shared/startup missing (../shared beside the repository)" >&2; exit 1; }
GO=$(./scripts/go.sh 2>/dev/null || echo go)

if [ -n "${OUT:-}" ]; then
	out=$OUT
	mkdir -p "$out"
else
	out=$(mktemp -d "${TMPDIR:-/tmp}/tincan-bench.XXXXXX")
	trap 'rm -rf "$out"' EXIT
fi
cut -d' ' -f1 /proc/loadavg >"$out/host-load"
step() { printf '\n=== bench: %s\n' "$*" >&2; }

step "start-up latency, lifecycle and peak RSS (../shared/bench/startup, $runs runs)"
"$shared/startup" --runs "$runs" --keep --json "$out/startup.json" "$oci" runc crun \
	2> >(tee "$out/startup.err" >&2) | tee "$out/startup.txt"
wait
# The per-run times (hyperfine's exports) are in the directory it kept.
kept=$(sed -n 's/^startup: kept //p' "$out/startup.err" | tail -n 1)
if [ -n "$kept" ] && [ -d "$kept" ]; then
	cp "$kept/run.json" "$out/startup-run.json"
	cp "$kept/lifecycle.json" "$out/startup-lifecycle.json"
	if grep -qF " $kept" /proc/self/mountinfo; then
		echo "bench: something is still mounted under $kept; not removing it" >&2
	else
		rm -rf -- "$kept"
	fi
fi

step "exec latency (bench/exec.sh, $runs runs)"
bench/exec.sh --runs "$runs" --json "$out/exec.json" "$oci" runc crun

for rt in "$oci" runc crun; do
	name=$(basename "$rt")
	step "density: $n containers with $name (../shared/bench/density)"
	"$shared/density" --n "$n" "$rt" 2>&1 | tee "$out/density-$name.txt"
done

step "monitor memory (bench/monitor.sh)"
bench/monitor.sh --json "$out/monitor.json"

step "Go benchmarks of the hot paths (-benchtime $benchtime)"
# shellcheck disable=SC2086  # BENCH_PKGS is a list of packages
"$GO" test -run '^$' -bench . -benchmem -benchtime "$benchtime" $BENCH_PKGS |
	tee "$out/gobench.txt"

if [ "${PULL:-1}" != 0 ]; then
	step "image pull (bench/pull.sh)"
	bench/pull.sh --runs 3 | tee "$out/pull.txt"
fi

date=$(date -u +%F)
mkdir -p bench/results docs/images
"$GO" run ./bench/cmd/benchreport -collect "$out" -results "bench/results/$date.json" \
	-md docs/PERFORMANCE.md -png docs/images/startup-latency.png
echo "bench: wrote bench/results/$date.json, docs/images/startup-latency.png and docs/PERFORMANCE.md" >&2
