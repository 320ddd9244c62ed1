#!/bin/sh
# Prints the path of a Go toolchain new enough for go.mod, or fails.
cd "$(dirname "$0")/.."
want=$(sed -n 's/^go \([0-9]*\.[0-9]*\).*$/\1/p' go.mod)
for go in "$(command -v go 2>/dev/null)" /usr/local/go/bin/go /usr/local/lib/tincan-go/bin/go; do
	[ -n "$go" ] && [ -x "$go" ] || continue
	have=$(GOTOOLCHAIN=local "$go" env GOVERSION 2>/dev/null | sed 's/^go\([0-9]*\.[0-9]*\).*/\1/')
	[ -n "$have" ] || continue
	if [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -n1)" = "$want" ]; then
		echo "$go"
		exit 0
	fi
done
exit 1
