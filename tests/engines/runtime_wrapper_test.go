package engines

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// wrappedRuntime is the runtime under test behind a small script that
// records each invocation's arguments before executing it, so a test can
// show the engine really used it, and how.
type wrappedRuntime struct {
	// path is what the engine is given as its runtime.
	path string
	// name is the runtime's name for messages ("tincan-oci", "runc").
	name string
	log  string
}

// wrapRuntime writes the wrapper in dir. Its name is the runtime's, as
// engines treat runtimes they know by name specially (podman passes --log
// only to runc and crun).
func wrapRuntime(t testing.TB, dir string) *wrappedRuntime {
	t.Helper()
	rt, name := runtimeUnderTest(t)
	w := &wrappedRuntime{name: name, log: filepath.Join(dir, "runtime-calls.log")}
	binDir := filepath.Join(dir, "bin")
	os.MkdirAll(binDir, 0o755)
	w.path = filepath.Join(binDir, name)
	script := fmt.Sprintf("#!/bin/sh\necho \"$*\" >> %s\nexec %s \"$@\"\n", w.log, rt)
	if err := os.WriteFile(w.path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return w
}

// calls returns the recorded invocations whose arguments contain verb as a
// word ("exec", "create").
func (w *wrappedRuntime) calls(verb string) []string {
	data, _ := os.ReadFile(w.log)
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		for _, f := range strings.Fields(line) {
			if f == verb {
				out = append(out, line)
				break
			}
		}
	}
	return out
}

// assertCalled fails the test unless the engine ran the runtime with verb.
func (w *wrappedRuntime) assertCalled(t testing.TB, verb string) {
	t.Helper()
	if len(w.calls(verb)) == 0 {
		data, _ := os.ReadFile(w.log)
		t.Errorf("the engine never ran %s %s; it ran:\n%s", w.name, verb, data)
	}
}
