// Package storage holds the read-only snapshots that image layers are
// unpacked into, and the layer tar applier both snapshotters share.
//
// A snapshot is identified by a key (the image layer's chain ID, hex) and
// has at most one parent. Two implementations of Snapshotter live in the
// sub-packages: overlay (one directory per layer holding only that layer's
// changes, whiteouts kept as overlayfs whiteouts, stacked by the caller as
// overlay lower directories) and native (each snapshot a full copy of its
// parent with the layer applied, whiteouts applied as deletions; for hosts
// without overlayfs). storagetest is the suite both must pass.
//
// The applier (Apply) unpacks an uncompressed layer tar into a directory
// without ever writing outside it: every entry's parent is resolved inside
// the root (linux/pathrs, openat2 RESOLVE_IN_ROOT) and created with *at
// system calls relative to that directory. Decompress detects gzip and
// zstd streams.
//
// Layered reads a stack of layer directories as the overlay of them would
// show it (whiteouts, opaque directories, symlinks resolved inside), for
// what must be read before a container's overlay is mounted: its
// /etc/passwd, the content that fills a new volume. CopyTree copies a
// snapshot exactly (the native snapshotter's first step).
//
// This package does not know about registries, manifests or digests
// (package image does), and it does not mount anything: the container's
// init stacks the directories Layers returns.
package storage
