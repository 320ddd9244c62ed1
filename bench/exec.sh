#!/usr/bin/env bash
# bench/exec.sh — latency of `exec` into a running container, tincan-oci
# next to runc and crun in one run. Run as root from the repository root
# (make bench does).
#
#   bench/exec.sh [--runs N] [--json FILE] RUNTIME...
#
# For each runtime (a path or a name on PATH), inside one cgroup v2 view
# (../shared/bench/v2view, as the startup benchmark measures): a busybox
# bundle running `sleep 1000` (../shared/bench/mkbundle) is started with
# `RUNTIME --root DIR run -d`, then hyperfine times
# `RUNTIME --root DIR exec ID /bin/true`, N runs (default 200) after 10
# warm-up runs, all runtimes in one hyperfine invocation. The containers
# are deleted (delete -f) and the scratch directory removed at the end,
# also on failure. --json writes hyperfine's export (every run's time).
# Prints one line per runtime: mean, median, min and stddev in ms.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED:-../shared}/bench

runs=200 json=
rts=()
while (($#)); do
	case $1 in
	--runs) runs=$2; shift 2 ;;
	--json) json=$(realpath -m -- "$2"); shift 2 ;;
	-*) echo "usage: $0 [--runs N] [--json FILE] RUNTIME..." >&2; exit 2 ;;
	*) rts+=("$1"); shift ;;
	esac
done
((${#rts[@]})) || { echo "usage: $0 [--runs N] [--json FILE] RUNTIME..." >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "bench/exec.sh: run as root" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench/exec.sh: needs hyperfine" >&2; exit 1; }

# Everything below runs inside the v2 view, as the startup benchmark does.
if [[ -z ${BENCH_IN_V2VIEW:-} ]]; then
	exec "$shared/v2view" "$0" --runs "$runs" ${json:+--json "$json"} "${rts[@]}"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-exec.XXXXXX")
paths=() started=()
cleanup() {
	local i
	for i in "${started[@]}"; do
		"${paths[i]}" --root "$work/root.$i" delete -f "exec$$-$i" >/dev/null 2>&1 || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

"$shared/mkbundle" --cmd 'sleep 1000' "$work/bundle" >/dev/null
hf=()
for i in "${!rts[@]}"; do
	p=$(command -v -- "${rts[i]}") || { echo "bench/exec.sh: ${rts[i]} not found" >&2; exit 1; }
	paths+=("$(realpath -s -- "$p")")
	"${paths[i]}" --root "$work/root.$i" run -d -b "$work/bundle" "exec$$-$i" </dev/null >/dev/null
	started+=("$i")
	hf+=(-n "$(basename -- "${rts[i]}")" "${paths[i]} --root $work/root.$i exec exec$$-$i /bin/true")
done
hyperfine -N --style none --warmup 10 --runs "$runs" --export-json "$work/exec.json" "${hf[@]}" >/dev/null
[[ -z $json ]] || cp "$work/exec.json" "$json"
jq -r '.results[] | [.command, .mean, .median, .min, .stddev] | "\(.[0]) \(.[1:] | map(. * 1000 | . * 100 | round / 100) | join(" "))"' "$work/exec.json" |
	awk 'BEGIN { printf "%-12s %8s %8s %8s %8s\n", "runtime", "mean ms", "median", "min", "stddev" }
	     { printf "%-12s %8.2f %8.2f %8.2f %8.2f\n", $1, $2, $3, $4, $5 }'
