#!/bin/sh
# The demo: a busybox container run by tincan-oci, first in the foreground,
# then through the create/start/state/kill/delete lifecycle.
set -eu
cd "$(dirname "$0")/.."
oci=$PWD/bin/tincan-oci
work=$(mktemp -d /tmp/tincan-demo.XXXXXX)
root=$work/state
trap '"$oci" --root "$root" delete -f demo >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

busybox=$(command -v busybox)
mkdir -p "$work/bundle/rootfs/bin"
cp "$busybox" "$work/bundle/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
	[ "$applet" = busybox ] || ln -s busybox "$work/bundle/rootfs/bin/$applet"
done
cd "$work/bundle"
"$oci" spec
# A non-interactive command instead of the default interactive shell.
sed -i 's/"terminal": true/"terminal": false/; s/"sh"$/"sh", "-c", "echo hello from $(hostname) as pid $$; ls \/; exit 3"/' config.json

say() { printf '\n$ %s\n' "$*"; }
say tincan-oci run demo
"$oci" --root "$root" run demo || echo "exit status: $? (the container's)"

sed -i 's/"echo hello from.*"/"sleep 300"/' config.json
say tincan-oci create demo; "$oci" --root "$root" create demo
say tincan-oci state demo; "$oci" --root "$root" state demo
say tincan-oci start demo; "$oci" --root "$root" start demo
say tincan-oci list; "$oci" --root "$root" list
say tincan-oci kill demo KILL; "$oci" --root "$root" kill demo KILL
sleep 0.2
say tincan-oci state demo; "$oci" --root "$root" state demo
say tincan-oci delete demo; "$oci" --root "$root" delete demo
say tincan-oci list; "$oci" --root "$root" list
