// Package nsenter holds the only C code in tincan: a constructor that joins
// and creates namespaces in "tincan-oci init" processes before the Go
// runtime starts its threads (see nsenter.c for the why and the steps).
//
// Import it for its side effect from the main package of any binary that
// re-executes itself as a container init. It owns nothing else: the plan it
// follows is written by package runtime, and the protocol is documented in
// runtime/initproc/protocol.go.
package nsenter

/*
extern int tincan_nsenter_ran;
*/
import "C"

// EnvFD is the environment variable that names the sync socket; its presence
// is what turns the constructor on.
const EnvFD = "_TINCAN_INIT_FD"

// Ran reports whether the constructor ran in this process. It does not when
// the binary was linked without the external linker, in which case
// namespaces would silently not be set up; the init refuses to go on.
func Ran() bool { return C.tincan_nsenter_ran != 0 }
