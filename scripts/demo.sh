#!/bin/sh
# The demo: a busybox container run by tincan-oci, first in the foreground,
# then through the create/start/state/kill/delete lifecycle; then a busybox
# web server run detached by tincan, the people's CLI: ps, a page fetched
# from it, logs, exec, top, stats, stop, rm. tincan keeps its state in the
# demo's own directories (TINCAN_DATA, TINCAN_RUN), never touching the
# user's containers, and everything is removed however the demo ends.
set -eu
cd "$(dirname "$0")/.."
oci=$PWD/bin/tincan-oci
tincan=$PWD/bin/tincan
work=$(mktemp -d /tmp/tincan-demo.XXXXXX)
root=$work/state
export TINCAN_DATA="$work/tincan-data" TINCAN_RUN="$work/tincan-run"
# The demo's default network is its own (a store's bridge goes with its
# last container; two stores must not share one).
export TINCAN_BRIDGE_NAME=tincandemo0 TINCAN_BRIDGE_SUBNET=10.76.0.0/24
cleanup() {
	"$tincan" rm -f web >/dev/null 2>&1 || true
	"$oci" --root "$root" delete -f demo >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

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

# tincan: a detached web server on the host's loopback, serving a page
# made for the demo from a read-only bind mount. The rootfs is the bundle's
# busybox: tincan runs on a copy-on-write overlay, so it is never modified.
# --init puts tincan's init as PID 1, which passes stop's SIGTERM on to
# httpd (as PID 1 itself, httpd would ignore it until the SIGKILL).
mkdir -p "$work/www"
printf '<h1>hello from a tincan container</h1>\n' > "$work/www/index.html"
port=$(( $$ % 20000 + 20000 ))
# A port nobody uses: not in the kernel's TCP tables (any state).
while grep -qi ":$(printf %04X "$port") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
	port=$((port + 1))
done
url=http://127.0.0.1:$port/
rootfs=$work/bundle/rootfs

say tincan run -d --init --name web -p "127.0.0.1:$port:80" -v "$work/www:/www:ro" --rootfs "$rootfs" httpd -f -vv -p 80 -h /www
"$tincan" run -d --init --name web -p "127.0.0.1:$port:80" -v "$work/www:/www:ro" --rootfs "$rootfs" \
	httpd -f -vv -p 80 -h /www
say tincan ps; "$tincan" ps
say tincan port web; "$tincan" port web
say wget -qO- "$url"
# busybox wget, never through a proxy; the server may need a moment.
tries=0
until "$busybox" wget -Y off -qO- "$url" 2>/dev/null; do
	tries=$((tries + 1))
	if [ "$tries" -ge 50 ]; then
		echo "demo: no answer from $url" >&2
		"$tincan" logs web >&2 || true
		exit 1
	fi
	sleep 0.1
done
say tincan logs web; "$tincan" logs web 2>&1
say tincan exec web ls -l /www; "$tincan" exec web ls -l /www
say tincan exec web ps; "$tincan" exec web ps
say tincan top web; "$tincan" top web
say tincan stats --no-stream web; "$tincan" stats --no-stream web
say tincan stop web; "$tincan" stop web
say tincan ps -a; "$tincan" ps -a
say tincan rm web; "$tincan" rm web
