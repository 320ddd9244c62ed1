package integration

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

func TestNoLeaksAfterManyLifecycles(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	base := newID(t)
	before := testutil.TakeSnapshot(t)
	const cycles = 100
	for i := 0; i < cycles; i++ {
		id := fmt.Sprintf("%s-%d", base, i)
		ociMust(t, r, "create", "--bundle", b.Dir, id)
		ociMust(t, r, "start", id)
		ociMust(t, r, "kill", id, "KILL")
		waitStatus(t, r, id, "stopped")
		ociMust(t, r, "delete", id)
		if t.Failed() {
			break
		}
	}
	// Every id of the run contains base.
	assertNothingLeft(t, r, before, base)
	if entries, _ := os.ReadDir(r.Root); len(entries) != 0 {
		t.Errorf("runtime root not empty after %d lifecycles: %d entries", cycles, len(entries))
	}
}

func TestNoLeaksAfterFailedCreates(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, b *testutil.Bundle)
	}{
		{"bad mount source", editSpec(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: "/nonexistent/tincan-leak", Options: []string{"rbind"}})
		})},
		{"failing prestart hook", editSpec(func(s *specs.Spec) {
			//lint:ignore SA1019 prestart is deprecated but still in the runtime-spec, and engines use it
			s.Hooks = &specs.Hooks{Prestart: []specs.Hook{{Path: "/bin/false"}}}
		})},
		{"missing program", editSpec(func(s *specs.Spec) { s.Process.Args = []string{"/no/such/program"} })},
		{"failing createContainer hook", editSpec(func(s *specs.Spec) {
			s.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{{Path: "/bin/false"}}}
		})},
		{"bad cwd", editSpec(func(s *specs.Spec) { s.Process.Cwd = "/bin/sh/x" })},
		{"missing namespace path", editSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(without(s.Linux.Namespaces, specs.IPCNamespace),
				specs.LinuxNamespace{Type: specs.IPCNamespace, Path: "/proc/0/ns/ipc"})
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testutil.NewBundle(t, "sleep", "100")
			tc.edit(t, b)
			r := testutil.NewRuntime(t)
			base := newID(t)
			before := testutil.TakeSnapshot(t)
			for i := 0; i < 10; i++ {
				id := base + "-" + strconv.Itoa(i)
				res := ociExec(t, r, nil, "create", "--bundle", b.Dir, id)
				if res.Code == 0 {
					t.Fatalf("create %s succeeded", id)
				}
				expectFailure(t, res)
			}
			assertNothingLeft(t, r, before, base)
			if entries, _ := os.ReadDir(r.Root); len(entries) != 0 {
				t.Errorf("runtime root holds %d entries after failed creates", len(entries))
			}
		})
	}
}

func TestNoLeaksAfterRunForeground(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "sleep 100 & sleep 100 & exit 3")
	r := testutil.NewRuntime(t)
	base := newID(t)
	before := testutil.TakeSnapshot(t)
	for i := 0; i < 10; i++ {
		res := runFG(t, r, b, base+"-"+strconv.Itoa(i))
		if res.Code != 3 {
			t.Fatalf("run: exit %d: %s", res.Code, res.Stderr)
		}
	}
	// The init exiting ends its pid namespace, background processes and all.
	assertNothingLeft(t, r, before, base)
}
