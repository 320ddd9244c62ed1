#!/bin/bash
# bench/pull.sh — pull + unpack of a ~200 MB, 8-layer image from a local
# registry: tincan vs `podman pull` vs `skopeo copy` + `umoci unpack`, in
# one run, on one machine. Run as root on Debian 12 from the repository
# root (make bench). Needs docker-registry, skopeo, podman, umoci and jq
# (installed when missing) and a Go toolchain to build tincan.
#
#   bench/pull.sh [--runs N] [--keep]
#
# The image is built here: a busybox-static base plus files of three kinds
# (random bytes, base64 text, repetitive text) so that it compresses about
# as real images do, gzip layers of ~25 MB each uncompressed. It is pushed
# with skopeo to docker-registry on 127.0.0.1 (its own storage directory).
# Every run starts from an empty store; before each, dirty pages are
# flushed (sync) and not timed; the registry's files stay in the page
# cache for every tool alike (a warm-up copy reads them first). Each tool
# does the same work: fetch, verify, decompress, apply the layers.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3
keep=0
uncompressed=0
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	*) echo "usage: $0 [--runs N] [--keep]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench/pull.sh: run as root" >&2; exit 1; }

need=""
for p in docker-registry skopeo podman umoci jq busybox-static; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
done
if [ -n "$need" ]; then
	echo "bench: apt-get install$need" >&2
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends install $need >&2
fi

GO=$(./scripts/go.sh 2>/dev/null || echo go)
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pull-XXXXXX")
registry_pid=""
cleanup() {
	if [ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null; then wait "$registry_pid" 2>/dev/null || true; fi
	if [ "$keep" = 1 ]; then echo "bench: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "bench: building tincan" >&2
CGO_ENABLED=1 "$GO" build -tags osusergo,netgo -trimpath -ldflags "-linkmode external" -o "$work/tincan" ./cmd/tincan

# --- the image: an OCI layout built with tar, gzip and jq -----------------
layout=$work/layout
mkdir -p "$layout/blobs/sha256"
blob() { # FILE -> moves it to the layout, prints its digest
	local d
	d=$(sha256sum "$1" | cut -d' ' -f1)
	mv "$1" "$layout/blobs/sha256/$d"
	echo "sha256:$d"
}
make_files() { # DIR SEED: ~25 MB in 200 files of three kinds
	local dir=$1 seed=$2 i
	mkdir -p "$dir/data$seed"
	for i in $(seq 1 200); do
		case $((i % 3)) in
		0) head -c 125000 /dev/urandom >"$dir/data$seed/random$i" ;;
		1) head -c 94000 /dev/urandom | base64 -w 76 >"$dir/data$seed/text$i" ;;
		2) seq "$((i * 1000 + seed))" "$((i * 1000 + seed + 18000))" | head -c 125000 >"$dir/data$seed/seq$i" ;;
		esac
	done
}
echo "bench: building a ~200 MB 8-layer image" >&2
diffids="[]"
layers="[]"
for n in 1 2 3 4 5 6 7 8; do
	dir=$work/layer$n
	mkdir -p "$dir"
	if [ "$n" = 1 ]; then
		mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp"
		cp /bin/busybox "$dir/bin/busybox"
		for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$dir/bin/$a"; done
	fi
	make_files "$dir" "$n"
	tar --numeric-owner -C "$dir" -cf "$work/layer$n.tar" .
	diffid="sha256:$(sha256sum "$work/layer$n.tar" | cut -d' ' -f1)"
	gzip -6 -n -c "$work/layer$n.tar" >"$work/layer$n.tar.gz"
	size=$(stat -c %s "$work/layer$n.tar.gz")
	digest=$(blob "$work/layer$n.tar.gz")
	rm -rf "$dir" "$work/layer$n.tar"
	diffids=$(jq -c --arg d "$diffid" '. + [$d]' <<<"$diffids")
	layers=$(jq -c --arg d "$digest" --argjson s "$size" \
		'. + [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $d, size: $s}]' <<<"$layers")
done
jq -n -c --argjson d "$diffids" --arg arch "$("$GO" env GOARCH)" \
	'{architecture: $arch, os: "linux", config: {Cmd: ["/bin/sh"]}, rootfs: {type: "layers", diff_ids: $d}}' >"$work/config.json"
csize=$(stat -c %s "$work/config.json")
cdigest=$(blob "$work/config.json")
jq -n -c --argjson l "$layers" --arg cd "$cdigest" --argjson cs "$csize" \
	'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
	  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $cd, size: $cs}, layers: $l}' >"$work/manifest.json"
msize=$(stat -c %s "$work/manifest.json")
mdigest=$(blob "$work/manifest.json")
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
jq -n -c --arg d "$mdigest" --argjson s "$msize" \
	'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $d, size: $s,
	  annotations: {"org.opencontainers.image.ref.name": "bench"}}]}' >"$layout/index.json"
compressed=$(jq '[.[].size] | add' <<<"$layers")

# --- the registry -----------------------------------------------------------
start_registry() { # on a random free port; sets host and registry_pid
	local port
	for _ in $(seq 1 20); do
		port=$((20000 + RANDOM % 40000))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue # in use
		host=127.0.0.1:$port
		cat >"$work/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: $host
EOF
		docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
		registry_pid=$!
		for _ in $(seq 1 150); do
			curl -fs "http://$host/v2/" >/dev/null && return 0
			kill -0 "$registry_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null || true
		registry_pid=""
	done
	cat "$work/registry.log" >&2
	return 1
}
start_registry
ref=$host/bench:latest
skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$layout:bench" "docker://$ref"
rm -rf "$layout"
# Warm-up: every tool then finds the registry's files in the page cache.
skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$ref" "oci:$work/warm:bench"
rm -rf "$work/warm"

# --- the tools ----------------------------------------------------------------
cat >"$work/containers.conf" <<'EOF'
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
echo 'unqualified-search-registries = []' >"$work/registries.conf"
podman_cmd() {
	CONTAINERS_CONF=$work/containers.conf CONTAINERS_REGISTRIES_CONF=$work/registries.conf \
		podman --root "$1/root" --runroot "$1/run" --storage-driver overlay "${@:2}"
}
run_tincan() { TINCAN_DATA=$1 TINCAN_RUN=$1/run "$work/tincan" pull -q "$ref" >/dev/null; }
run_podman() { podman_cmd "$1" pull -q --tls-verify=false "$ref" >/dev/null; }
run_skopeo_umoci() {
	skopeo --insecure-policy copy -q --src-tls-verify=false "docker://$ref" "oci:$1/oci:bench" &&
		umoci unpack --image "$1/oci:bench" "$1/bundle" >/dev/null
}
clean() { # DIR TOOL
	[ "$2" = podman ] && podman_cmd "$1" system reset --force >/dev/null 2>&1
	rm -rf "$1"
}

now() { date +%s.%N; }
tools="tincan podman skopeo_umoci"
declare -A times
for r in $(seq 1 "$runs"); do
	for tool in $tools; do
		dir=$work/run-$tool-$r
		mkdir -p "$dir"
		sync
		start=$(now)
		if ! "run_$tool" "$dir" 2>"$work/$tool.err"; then
			echo "bench: $tool failed:" >&2
			cat "$work/$tool.err" >&2
			exit 1
		fi
		end=$(now)
		t=$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.3f", b - a}')
		times[$tool]="${times[$tool]:-} $t"
		printf 'bench: run %d %-13s %6.2f s\n' "$r" "$tool" "$t" >&2
		if [ "$tool" = tincan ] && [ "$r" = 1 ]; then
			uncompressed=$(TINCAN_DATA=$dir "$work/tincan" image inspect "$ref" | jq '.[0].Size')
		fi
		clean "$dir" "$tool"
	done
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
best() { tr ' ' '\n' | grep . | sort -n | head -1; }
echo
printf 'Image: 8 layers, %d MB uncompressed, %d MB compressed (gzip); %d runs each, %s CPUs\n' \
	"$((uncompressed / 1000000))" "$((compressed / 1000000))" "$runs" "$(nproc)"
echo
echo "| tool | median (s) | best (s) | MB/s (compressed, median) |"
echo "|---|---|---|---|"
for tool in $tools; do
	m=$(echo "${times[$tool]}" | median)
	b=$(echo "${times[$tool]}" | best)
	name=$tool
	[ "$tool" = skopeo_umoci ] && name="skopeo copy + umoci unpack"
	[ "$tool" = podman ] && name="podman pull (overlay)"
	[ "$tool" = tincan ] && name="tincan pull (overlay)"
	printf '| %s | %.2f | %.2f | %.0f |\n' "$name" "$m" "$b" "$(awk -v c="$compressed" -v m="$m" 'BEGIN {print c / 1e6 / m}')"
done
