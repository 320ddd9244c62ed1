// Package frontend tests the tincan command line end to end: real
// containers from busybox-static root filesystems, through the binary.
package frontend

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tincan/tincan/internal/testutil"
)

// env is one test's private tincan store and a busybox rootfs.
type env struct {
	t      *testing.T
	bin    string
	data   string
	run    string
	rootfs string
	bridge []string // the store's own default network (testutil.BridgeEnv)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testutil.RequiresRoot(t)
	e := &env{t: t, bin: testutil.TincanBinary(t), data: t.TempDir(), run: t.TempDir(), rootfs: filepath.Join(t.TempDir(), "rootfs"),
		bridge: testutil.BridgeEnv()}
	os.Chmod(filepath.Dir(e.rootfs), 0o755)
	testutil.NewRootfs(t, e.rootfs)
	t.Cleanup(func() {
		out, _ := e.cmd("ps", "-aq").Output()
		for _, id := range strings.Fields(string(out)) {
			e.cmd("rm", "-f", id).Run()
		}
	})
	return e
}

func (e *env) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(os.Environ(), "TINCAN_DATA="+e.data, "TINCAN_RUN="+e.run)
	cmd.Env = append(cmd.Env, e.bridge...)
	return cmd
}

type result struct {
	stdout, stderr string
	code           int
}

// tincan runs the CLI with output through files (a container's output
// pipe could otherwise be held open by a detached container).
func (e *env) tincan(args ...string) result {
	e.t.Helper()
	return e.tincanStdin("", args...)
}

func (e *env) tincanStdin(stdin string, args ...string) result {
	e.t.Helper()
	cmd := e.cmd(args...)
	cmd.Stdin = strings.NewReader(stdin)
	dir := e.t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "out"))
	errf, _ := os.Create(filepath.Join(dir, "err"))
	defer out.Close()
	defer errf.Close()
	cmd.Stdout, cmd.Stderr = out, errf
	err := cmd.Run()
	r := result{}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatalf("tincan %v: %v", args, err)
	}
	o, _ := os.ReadFile(out.Name())
	x, _ := os.ReadFile(errf.Name())
	r.stdout, r.stderr = string(o), string(x)
	return r
}

func (e *env) must(args ...string) result {
	e.t.Helper()
	r := e.tincan(args...)
	if r.code != 0 {
		e.t.Fatalf("tincan %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// eventually polls cond until it holds (bounded).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func oneLine(t *testing.T, stderr string) {
	t.Helper()
	if strings.Count(strings.TrimSpace(stderr), "\n") != 0 || strings.Contains(stderr, "goroutine ") {
		t.Errorf("error is not one line: %q", stderr)
	}
}

// runtimeEntries lists the runtime root's entries, with the files of the
// netns directory (the network namespaces of running containers, one
// each) in place of the directory itself.
func runtimeEntries(t *testing.T, run string) []string {
	t.Helper()
	entries, _ := os.ReadDir(run)
	var names []string
	for _, x := range entries {
		if x.Name() != "netns" {
			names = append(names, x.Name())
		}
	}
	ns, _ := os.ReadDir(filepath.Join(run, "netns"))
	for _, x := range ns {
		names = append(names, "netns/"+x.Name())
	}
	return names
}
