#!/usr/bin/env bash
# bench/monitor.sh — memory of the process that stays with each running
# container: tincan's monitor (`tincan run -d`, engine/monitor.go) next to
# podman's conmon and containerd's containerd-shim-runc-v2, on this host.
# Run as root from the repository root (make bench does).
#
#   bench/monitor.sh [--json FILE]
#
# Each engine runs one busybox `sleep 1000` container from a plain root
# filesystem directory (no image, no network), with state of its own in a
# scratch directory: tincan with TINCAN_DATA/TINCAN_RUN there; podman with
# --root/--runroot there, cgroupfs, runc (crun refuses hybrid cgroup
# hosts), --network none; containerd started
# there with its own socket, `ctr run --rootfs`. A second of settling, then
# the process's RSS, PSS, USS (private pages) and anonymous memory from
# /proc/PID/status and /proc/PID/smaps_rollup, in KiB. The anonymous part
# is what each more container costs; the rest is mostly the binary's page
# cache, mapped (and with large folios counted in RSS) whole, shared by
# every process of that binary. Everything is removed at the end, also on
# failure: containers, the containerd daemon, the scratch directory.
set -euo pipefail
cd "$(dirname "$0")/.."

json=
while (($#)); do
	case $1 in
	--json) json=$(realpath -m -- "$2"); shift 2 ;;
	*) echo "usage: $0 [--json FILE]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench/monitor.sh: run as root" >&2; exit 1; }
[ -x bin/tincan ] || { echo "bench/monitor.sh: build bin/tincan first (make tincan)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-monitor.XXXXXX")
rootfs=$work/rootfs
tincan_id='' podman_id='' containerd_pid=''
tincan() { TINCAN_DATA=$work/tincan TINCAN_RUN=$work/tincan/run bin/tincan "$@"; }
podman_cmd() {
	CONTAINERS_CONF=$work/containers.conf CONTAINERS_REGISTRIES_CONF=$work/registries.conf \
		podman --root "$work/podman/root" --runroot "$work/podman/run" --storage-driver vfs --runtime runc "$@"
}
ctr_cmd() { ctr --address "$work/containerd/c.sock" --namespace bench "$@"; }
cleanup() {
	set +e
	[[ -n $tincan_id ]] && tincan rm -f "$tincan_id" >/dev/null 2>&1
	if [[ -n $podman_id ]]; then
		podman_cmd rm -f -t 0 "$podman_id" >/dev/null 2>&1
		podman_cmd system reset --force >/dev/null 2>&1
	fi
	if [[ -n $containerd_pid ]]; then
		ctr_cmd task kill -s KILL bench-monitor >/dev/null 2>&1
		for _ in $(seq 1 50); do ctr_cmd task delete bench-monitor >/dev/null 2>&1 && break; sleep 0.1; done
		ctr_cmd container rm bench-monitor >/dev/null 2>&1
		kill "$containerd_pid" 2>/dev/null && wait "$containerd_pid" 2>/dev/null
	fi
	if grep -qF " $work" /proc/self/mountinfo; then
		echo "bench/monitor.sh: something is still mounted under $work; not removing it" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" "$rootfs/tmp" "$rootfs/etc"
cp /bin/busybox "$rootfs/bin/busybox"
for a in sh sleep true; do ln -s busybox "$rootfs/bin/$a"; done
echo 'root:x:0:0:root:/:/bin/sh' >"$rootfs/etc/passwd"

# memory PID NAME: one JSON object for the process.
memory() {
	local pid=$1 name=$2 rss pss uss anon
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
	anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")
	pss=$(awk '/^Pss:/ { print $2 }' "/proc/$pid/smaps_rollup")
	uss=$(awk '/^Private_(Clean|Dirty):/ { s += $2 } END { print s }' "/proc/$pid/smaps_rollup")
	printf '{"engine":"%s","process":"%s","pid":%d,"rss_kib":%d,"pss_kib":%d,"uss_kib":%d,"anon_kib":%d}\n' \
		"$name" "$(tr '\0' ' ' <"/proc/$pid/cmdline" | cut -c1-60 | sed 's/ *$//; s/"/\\"/g')" "$pid" "$rss" "$pss" "$uss" "$anon"
}
results=()

# --- tincan ---------------------------------------------------------------
tincan_id=$(tincan run -d --rootfs "$rootfs" sleep 1000)
sleep 1
mon=$(pgrep -x -f "tincan monitor $tincan_id" | head -n 1 || true)
[[ -n $mon ]] || { echo "bench/monitor.sh: no monitor process for $tincan_id" >&2; exit 1; }
results+=("$(memory "$mon" "tincan monitor")")

# --- podman + conmon --------------------------------------------------------
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
echo 'unqualified-search-registries = []' >"$work/registries.conf"
podman_id=$(podman_cmd run -d --network none --rootfs "$rootfs" sleep 1000)
sleep 1
conmon=$(podman_cmd inspect --format '{{.State.ConmonPid}}' "$podman_id")
results+=("$(memory "$conmon" "podman conmon")")

# --- containerd + containerd-shim-runc-v2 -----------------------------------
mkdir -p "$work/containerd"
cat >"$work/containerd/config.toml" <<EOF
version = 2
root = "$work/containerd/root"
state = "$work/containerd/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$work/containerd/c.sock"
[ttrpc]
  address = "$work/containerd/c.sock.ttrpc"
EOF
containerd --config "$work/containerd/config.toml" >"$work/containerd/log" 2>&1 &
containerd_pid=$!
for _ in $(seq 1 100); do [[ -S $work/containerd/c.sock ]] && break; sleep 0.1; done
ctr_cmd run -d --rootfs "$rootfs" bench-monitor /bin/sleep 1000 >/dev/null
sleep 1
shim=$(pgrep -f -- "containerd-shim-runc-v2 -namespace bench -id bench-monitor" | head -n 1 || true)
[[ -n $shim ]] || { echo "bench/monitor.sh: no containerd-shim-runc-v2 for the container" >&2; exit 1; }
results+=("$(memory "$shim" "containerd shim")")

printf '%-16s %10s %10s %10s %10s\n' engine "RSS KiB" "PSS KiB" "USS KiB" "anon KiB"
for r in "${results[@]}"; do
	jq -r '"\(.engine) \(.rss_kib) \(.pss_kib) \(.uss_kib) \(.anon_kib)"' <<<"$r" |
		awk '{ printf "%-16s %10d %10d %10d %10d\n", $1 " " $2, $3, $4, $5, $6 }'
done
[[ -z $json ]] || printf '%s\n' "${results[@]}" | jq -s . >"$json"
