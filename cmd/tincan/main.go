// Command tincan is a daemonless, docker-like command line for running
// containers: `tincan run IMAGE [cmd]` (or `--rootfs DIR cmd`), images
// (pull, push, images, rmi, ...), detached containers with logs,
// ps/stop/kill/rm/exec/inspect, volumes. It drives tincan's runtime
// packages in-process; a small monitor process (this binary, "tincan
// monitor") stays with each running container.
//
// This package only parses the command line and prints; the work is in
// package engine.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tincan/tincan/engine"
	"github.com/tincan/tincan/internal/pid1"
	_ "github.com/tincan/tincan/linux/nsenter" // the namespace constructor for "init"
	"github.com/tincan/tincan/runtime/initproc"
)

// version is set at build time.
var version = "0.1.0-dev"

func main() {
	// Fast paths that never build the command tree: the init inside a
	// container (--init), the runtime's container init, and the monitor.
	switch {
	case filepath.Base(os.Args[0]) == "tincan-init":
		os.Exit(pid1.Main(os.Args[1:]))
	case len(os.Args) > 1 && os.Args[1] == "init":
		if err := initproc.Run(); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	case len(os.Args) > 2 && os.Args[1] == "monitor":
		attached, debug := false, false
		for _, a := range os.Args[3:] {
			attached = attached || a == "--attached"
			debug = debug || a == "--debug"
		}
		if err := storeFromEnv().RunMonitor(os.Args[2], attached, debug); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(execute(os.Args[1:]))
}

// storeFromEnv is the store the CLI passed to the monitor.
func storeFromEnv() *engine.Store {
	s := engine.DefaultStore()
	if v := os.Getenv("TINCAN_DATA"); v != "" {
		s.Data = v
	}
	if v := os.Getenv("TINCAN_RUN"); v != "" {
		s.Run = v
	}
	return s
}

// statusError carries the exit status of a container (run, start -a,
// wait is printed, not an error).
type statusError int

func (e statusError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// exitCode maps an error to docker's exit statuses: the container's own
// status, 126/127 when its command cannot run, 125 for tincan's errors.
func exitCode(err error) int {
	var st statusError
	var ee *engine.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &st):
		return int(st)
	case errors.As(err, &ee):
		return ee.Code
	}
	return 125
}

// printError prints err as one line.
func printError(err error) {
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	fmt.Fprintf(os.Stderr, "tincan: %s\n", msg)
}
