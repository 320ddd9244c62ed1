// Package engines holds end-to-end tests of tincan-oci under the container
// engines that drive runc: containerd (ctr and the io.containerd.runc.v2
// shim), podman (with conmon) and docker (dockerd with its own containerd).
//
// Each test starts its daemon itself, on private sockets and state
// directories under the test's temporary directory, loads a small image
// built locally from busybox-static (no registry is reached), and stops the
// daemon and removes what it left (mounts, cgroups) at the end. A daemon
// that cannot start on the host skips its tests, saying why.
//
// The runtime under test is tincan-oci ($TINCAN_OCI, or one built for the
// test run). Set TINCAN_ENGINES_RUNTIME to another runc-compatible binary
// (/usr/sbin/runc) to run the same tests with it, to show they are fair:
// `make test-engines` runs them with both.
package engines
