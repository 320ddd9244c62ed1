// Package integration holds end-to-end tests of tincan-oci: real
// containers from busybox-static bundles, driven through the binary as
// engines drive runc. They need root and skip without it.
package integration
