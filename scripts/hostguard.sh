#!/bin/sh
# hostguard.sh CMD...: runs CMD and fails if it changed the host's mount
# table: a mount left behind, or one stacked on / (which makes the kernel
# treat every process as chrooted, so user namespaces stop working). Tests
# must mount only in private namespaces or clean up; this catches those
# that do not, instead of letting them break whatever runs next.
set -u
mounts() { awk '{print $5, $9}' /proc/self/mountinfo | sort; }
before=$(mktemp)
after=$(mktemp)
trap 'rm -f "$before" "$after"' EXIT
mounts > "$before"
root_before=$(stat -f -c %T /..)
"$@"
status=$?
mounts > "$after"
root_after=$(stat -f -c %T /..)
leaked=$(comm -13 "$before" "$after")
if [ -n "$leaked" ] || [ "$root_before" != "$root_after" ]; then
	echo "hostguard: '$*' changed the host's mount table:" >&2
	[ -n "$leaked" ] && echo "$leaked" | sed 's/^/  new mount: /' >&2
	[ "$root_before" != "$root_after" ] && echo "  a $root_after filesystem is now stacked on /" >&2
	[ "$status" -eq 0 ] && status=1
fi
exit $status
