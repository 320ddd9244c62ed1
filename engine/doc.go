// Package engine is the container store of the tincan front end: what a
// person's container is beyond its OCI runtime state — name, run
// configuration, copy-on-write root filesystem, logs, exit status — and
// the operations on it (run, stop, kill, remove, wait, rename, prune).
//
// It owns the records under the data root (/var/lib/tincan, or
// $XDG_DATA_HOME/tincan for other users), the per-container monitor
// process that keeps a container's stdio, logs and exit status, and the
// attach protocol between the CLI and the monitor. It builds the OCI spec
// itself (docker-like defaults) and drives package runtime in-process; it
// never runs tincan-oci.
//
// Layout on disk:
//
//	<data>/containers/<id>/record.json   the Record (atomic writes)
//	<data>/containers/<id>/bundle/        config.json, hosts, resolv.conf, hostname
//	<data>/containers/<id>/rootfs/        upper/work dirs of the --rootfs overlay
//	<data>/containers/<id>/container.log  json-lines log of stdout/stderr
//	<data>/volumes/<name>/_data           named volumes
//	<run>/engine/<id>/attach.sock         the monitor's attach socket
//	<run>/<id>/                           runtime state (package runtime)
package engine
