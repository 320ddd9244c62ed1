#!/bin/sh
# Installs what tincan needs to build, run and test on Debian 12, as root:
# the apt packages (busybox-static for test root filesystems, gcc and the
# static C libraries (glibc, musl) for the one cgo file, runc and crun for comparisons,
# jq for the conformance scripts, containerd, podman and docker for the
# engine tests), a Go toolchain when the machine has
# none recent enough (fetched from the Go module proxy, the one place Go
# toolchains are published as modules), and the Go modules. Idempotent.
set -eu
cd "$(dirname "$0")/.."

pkgs="busybox-static gcc libc6-dev make jq curl unzip runc crun"
# musl for tincan-oci's static link: a faster process start than glibc's.
pkgs="$pkgs musl-tools"
# ps(1) for `tincan top` and `tincan-oci ps` (minimal Debian images lack it).
pkgs="$pkgs procps"
# The engines of tests/engines (docker.io brings dockerd; it and the ctr
# tests use containerd and its runc v2 shim; podman runs containers with conmon).
pkgs="$pkgs containerd podman conmon docker.io"
# tests/images and bench/pull.sh: a registry, and tools to cross-check with.
pkgs="$pkgs docker-registry skopeo podman umoci"
# Networking: iproute2 (ip netns for the tests' outside host), passt (pasta:
# rootless networking), nftables (the nft command, to look at tincan's
# table; tincan itself talks netlink), containernetworking-plugins (podman's
# bridge, for the published-port benchmark).
pkgs="$pkgs iproute2 passt nftables containernetworking-plugins"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: apt-get install$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends install $missing ||
		{ apt-get -o DPkg::Lock::Timeout=300 -q update && apt-get -o DPkg::Lock::Timeout=300 -y -q --no-install-recommends install $missing; }
fi

GO=$(./scripts/go.sh 2>/dev/null || true)
if [ -z "$GO" ]; then
	want=$(sed -n 's/^go \([0-9.]*\)$/\1/p' go.mod)
	proxy=$(echo "${GOPROXY:-https://proxy.golang.org}" | cut -d, -f1)
	zip="$proxy/golang.org/toolchain/@v/v0.0.1-go$want.linux-amd64.zip"
	echo "install-deps: fetching Go $want from $zip"
	tmp=$(mktemp -d)
	curl -fsSL -o "$tmp/go.zip" "$zip"
	rm -rf /usr/local/lib/tincan-go
	mkdir -p /usr/local/lib/tincan-go
	unzip -q "$tmp/go.zip" -d "$tmp/x"
	mv "$tmp/x/golang.org/toolchain@v0.0.1-go$want.linux-amd64"/* /usr/local/lib/tincan-go/
	chmod +x /usr/local/lib/tincan-go/bin/* /usr/local/lib/tincan-go/pkg/tool/*/* 2>/dev/null || true
	rm -rf "$tmp"
	GO=$(./scripts/go.sh)
fi
"$GO" mod download
