package initproc

import (
	"os"
	goruntime "runtime"
)

// Any binary that re-executes itself as "<binary> init" (tincan-oci and
// tincan) runs the init on the main goroutine, which must stay on the main
// thread from the start: the bounding set, capabilities, no_new_privs,
// keep-caps and the seccomp listener are per thread, and execve takes the
// calling thread's. Locked here, in package initialisation, so that no
// binary can forget it.
func init() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		goruntime.LockOSThread()
	}
}
