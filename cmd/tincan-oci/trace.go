package main

import (
	"fmt"
	"os"
	"runtime/trace"
)

// traceEnv names a file to write a Go execution trace of this process to
// (`go tool trace FILE`): how docs/PERFORMANCE.md's profile of create,
// start and run was taken. Not for the init, which execs the container.
const traceEnv = "TINCAN_OCI_TRACE"

// startTrace starts the trace when traceEnv asks for one and returns the
// function that ends it.
func startTrace() (stop func()) {
	path := os.Getenv(traceEnv)
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = trace.Start(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %s=%s: %v\n", prog, traceEnv, path, err)
		return func() {}
	}
	return func() {
		trace.Stop()
		f.Close()
	}
}
