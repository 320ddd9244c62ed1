// Package engine is the container store of the tincan front end: what a
// person's container is beyond its OCI runtime state — name, run
// configuration, copy-on-write root filesystem, logs, exit status — and
// the operations on it (run, stop, kill, remove, wait, rename, prune,
// exec, top, stats, pause).
//
// A container from an image gets it from package image (found or pulled,
// unpacked into snapshots shared by every image and container), runs on
// an overlay of the layer directories, and records the image's id, which
// rmi and image prune ask about (UsesImage).
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
//	<data>/containers/<id>/rootfs/        upper/work dirs of the overlay (over the image's
//	                                      layer snapshots, or --rootfs)
//	<data>/containers/<id>/container.log  json-lines log of stdout/stderr
//	<data>/containers/<id>/monitor.lock   held by the container's monitor while it lives
//	<data>/volumes/<name>/_data           named volumes
//	<run>/engine/<id>/attach.sock         the monitor's attach socket
//	<run>/engine/<id>/exec-*.json         an exec's process.json, while tincan exec runs
//	<run>/engine/<id>/pasta.pid           rootless: the pid of the container's pasta
//	<run>/<id>/                           runtime state (package runtime)
package engine
