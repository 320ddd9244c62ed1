package integration

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

// waitStatus polls state until the container reaches status (bounded).
func waitStatus(t *testing.T, r *testutil.Runtime, id, status string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, res := ociState(t, r, id)
		if res.Code == 0 && string(st.Status) == status {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s did not reach %q: %s%s", id, status, res.Stdout, res.Stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls cond every few milliseconds until it holds or 10 seconds
// pass, then fails the test with what.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var nonIDChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// newID returns a container id unique to this test and run. It doubles as
// the leak marker: the container's cgroup and any process started with it
// carry it.
func newID(t testing.TB) string {
	t.Helper()
	name := strings.Trim(nonIDChars.ReplaceAllString(strings.TrimPrefix(t.Name(), "Test"), "-"), "-")
	if len(name) > 40 {
		name = name[:40]
	}
	var b [4]byte
	rand.Read(b[:])
	return strings.ToLower(name) + "-" + hex.EncodeToString(b[:])
}

// ociExec runs tincan-oci like Runtime.Exec, but with stdio on files rather
// than pipes: a container created or started detached inherits tincan-oci's
// stdout and stderr, and a pipe it holds open would make the wait hang.
// The container's own output (after start) also lands in stdout, which the
// caller may pass (nil: a temporary file).
func ociExec(t testing.TB, r *testutil.Runtime, stdout *os.File, args ...string) testutil.Result {
	t.Helper()
	return ociExecCmd(t, r.Cmd(args...), stdout)
}

// ociExecCmd runs a prepared tincan-oci command as ociExec does.
func ociExecCmd(t testing.TB, cmd *exec.Cmd, stdout *os.File) testutil.Result {
	t.Helper()
	if stdout == nil {
		stdout = scratchFile(t)
		defer os.Remove(stdout.Name())
		defer stdout.Close()
	}
	stderr := scratchFile(t)
	defer os.Remove(stderr.Name())
	defer stderr.Close()
	if cmd.Stdout == nil {
		cmd.Stdout = stdout
	}
	cmd.Stderr = stderr
	err := cmd.Run()
	res := testutil.Result{Stdout: readFile(t, stdout.Name()), Stderr: readFile(t, stderr.Name())}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return res
}

// scratchFile is a temporary file the caller closes and removes, so that
// loops of many invocations hold no fds or files until the test ends.
func scratchFile(t testing.TB) *os.File {
	t.Helper()
	f, err := os.CreateTemp("", "tincan-integration-")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// ociState is State through ociExec (no fds held until the test ends).
func ociState(t testing.TB, r *testutil.Runtime, id string) (specs.State, testutil.Result) {
	t.Helper()
	res := ociExec(t, r, nil, "state", id)
	var st specs.State
	if res.Code == 0 {
		if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
			t.Fatalf("state %s: %v: %q", id, err, res.Stdout)
		}
	}
	return st, res
}

// ociMust is ociExec that fails the test on a non-zero exit.
func ociMust(t testing.TB, r *testutil.Runtime, args ...string) testutil.Result {
	t.Helper()
	res := ociExec(t, r, nil, args...)
	if res.Code != 0 {
		t.Fatalf("tincan-oci %v: exit %d\nstdout: %s\nstderr: %s", args, res.Code, res.Stdout, res.Stderr)
	}
	return res
}

func createFile(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// create creates container id from b with stdio on files and registers its
// forced deletion; it returns the container's stdout file.
func create(t *testing.T, r *testutil.Runtime, b *testutil.Bundle, id string, extra ...string) *os.File {
	t.Helper()
	out := createFile(t, filepath.Join(t.TempDir(), "container-stdout"))
	args := append([]string{"create", "--bundle", b.Dir}, extra...)
	res := ociExec(t, r, out, append(args, id)...)
	if res.Code != 0 {
		t.Fatalf("create %s: exit %d: %s", id, res.Code, res.Stderr)
	}
	forceDeleteAtCleanup(t, r, id)
	return out
}

// runDetached runs container id from b with run --detach and returns the
// pid of its process.
func runDetached(t *testing.T, r *testutil.Runtime, b *testutil.Bundle, id string, extra ...string) int {
	t.Helper()
	args := append([]string{"run", "--detach", "--bundle", b.Dir}, extra...)
	res := ociExec(t, r, nil, append(args, id)...)
	if res.Code != 0 {
		t.Fatalf("run --detach %s: exit %d: %s", id, res.Code, res.Stderr)
	}
	forceDeleteAtCleanup(t, r, id)
	return r.State(t, id).Pid
}

// forceDeleteAtCleanup deletes id at the end of the test, before the
// test's temporary directories (registered earlier) are removed.
func forceDeleteAtCleanup(t *testing.T, r *testutil.Runtime, id string) {
	t.Cleanup(func() { r.Cmd("delete", "--force", id).Run() })
}

// runFG runs container id from b in the foreground and returns what it
// printed and its exit status.
func runFG(t *testing.T, r *testutil.Runtime, b *testutil.Bundle, id string, extra ...string) testutil.Result {
	t.Helper()
	args := append([]string{"run", "--bundle", b.Dir}, extra...)
	return r.Exec(t, append(args, id)...)
}

// runOutput runs args in a fresh container of b (in the foreground) and
// returns its stdout, failing the test unless it exits 0.
func runOutput(t *testing.T, r *testutil.Runtime, b *testutil.Bundle) string {
	t.Helper()
	id := newID(t)
	res := runFG(t, r, b, id)
	if res.Code != 0 {
		t.Fatalf("run %v: exit %d\nstdout: %s\nstderr: %s", b.Spec.Process.Args, res.Code, res.Stdout, res.Stderr)
	}
	return res.Stdout
}

// shell sets the bundle's process to sh -c script and saves it.
func shell(t testing.TB, b *testutil.Bundle, script string) {
	t.Helper()
	b.Spec.Process.Args = []string{"sh", "-c", script}
	b.Save(t)
}

// addMount appends a mount to the bundle (not saved).
func addMount(b *testutil.Bundle, m specs.Mount) {
	b.Spec.Mounts = append(b.Spec.Mounts, m)
}

// outDir binds a fresh host directory, writable by everyone, read-write at
// dest in the container, and returns its host path (the bundle is saved).
func outDir(t testing.TB, b *testutil.Bundle, dest string) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	// Made here: in a user namespace the init cannot create it in a rootfs
	// owned by an unmapped host root (runc cannot either).
	os.MkdirAll(filepath.Join(b.Rootfs(), dest), 0o755)
	addMount(b, specs.Mount{Destination: dest, Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
	b.Save(t)
	return dir
}

// setNamespaces replaces the namespace list with new namespaces of types.
func setNamespaces(b *testutil.Bundle, types ...specs.LinuxNamespaceType) {
	b.Spec.Linux.Namespaces = nil
	for _, typ := range types {
		b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: typ})
	}
}

// nsLink is the target of /proc/<pid>/ns/<name> ("self" for pid 0).
func nsLink(t testing.TB, pid int, name string) string {
	t.Helper()
	p := "self"
	if pid != 0 {
		p = strconv.Itoa(pid)
	}
	link, err := os.Readlink("/proc/" + p + "/ns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return link
}

// expectFailure checks the runc error contract: exit 1, one line on stderr
// containing each of want, no stack trace.
func expectFailure(t testing.TB, res testutil.Result, want ...string) {
	t.Helper()
	if res.Code != 1 {
		t.Errorf("exit %d, want 1 (stdout %q, stderr %q)", res.Code, res.Stdout, res.Stderr)
	}
	noStackTrace(t, res.Stderr)
	msg := strings.TrimSuffix(res.Stderr, "\n")
	if msg == "" || strings.Contains(msg, "\n") {
		t.Errorf("stderr is not a single line: %q", res.Stderr)
	}
	for _, w := range want {
		if !strings.Contains(res.Stderr, w) {
			t.Errorf("stderr %q does not contain %q", res.Stderr, w)
		}
	}
}

// noStackTrace fails the test if out shows a Go panic or stack trace.
func noStackTrace(t testing.TB, out string) {
	t.Helper()
	if strings.Contains(out, "goroutine ") || strings.Contains(out, "panic") {
		t.Errorf("output has a stack trace or panic:\n%s", out)
	}
}

// containerProcesses lists processes that belong to container id: its
// cgroup path, command line or environment names the id.
func containerProcesses(id string) []string {
	out := testutil.ProcessesWith(id)
	entries, _ := os.ReadDir("/proc")
	self := strconv.Itoa(os.Getpid())
	for _, e := range entries {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' || pid == self {
			continue
		}
		for _, f := range []string{"cgroup", "environ"} {
			data, err := os.ReadFile("/proc/" + pid + "/" + f)
			if err == nil && bytes.Contains(data, []byte(id)) {
				cmdline, _ := os.ReadFile("/proc/" + pid + "/cmdline")
				out = append(out, fmt.Sprintf("%s (%s): %s", pid, f, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
				break
			}
		}
	}
	return out
}

// assertNothingLeft checks that container id left nothing behind since
// before: no state directory under the runtime root, no mount or cgroup
// directory naming it, no process of it. Processes and cgroups may take a
// moment to go, so it polls briefly.
func assertNothingLeft(t testing.TB, r *testutil.Runtime, before testutil.Snapshot, id string) {
	t.Helper()
	var problems []string
	deadline := time.Now().Add(3 * time.Second)
	for {
		problems = nil
		if _, err := os.Lstat(filepath.Join(r.Root, id)); err == nil {
			problems = append(problems, "state directory "+filepath.Join(r.Root, id))
		}
		entries, _ := os.ReadDir(r.Root)
		for _, e := range entries {
			// A create that failed half-way would leave its temporary
			// state directory (".new-*") behind.
			if strings.Contains(e.Name(), id) || strings.HasPrefix(e.Name(), ".") {
				problems = append(problems, "entry in runtime root: "+e.Name())
			}
		}
		problems = append(problems, testutil.Leaks(before, testutil.TakeSnapshot(t), id)...)
		for _, p := range containerProcesses(id) {
			problems = append(problems, "process "+p)
		}
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range problems {
		t.Errorf("left behind by %s: %s", id, p)
	}
}

// nsHolder starts `unshare --<flag> --fork sleep 1000` and returns the pid
// of the sleep, which is in the new namespace; it is killed at cleanup.
func nsHolder(t *testing.T, flags ...string) int {
	t.Helper()
	args := append(append([]string{}, flags...), "--fork", "--kill-child", "sleep", "1000")
	cmd := exec.Command("unshare", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var child int
	t.Cleanup(func() {
		if child > 0 {
			exec.Command("kill", "-KILL", strconv.Itoa(child)).Run()
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	children := fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid)
	waitFor(t, "namespace holder's child", func() bool {
		data, _ := os.ReadFile(children)
		fields := strings.Fields(string(data))
		if len(fields) == 1 {
			child, _ = strconv.Atoi(fields[0])
			// Until it has executed sleep it may still be unshare's fork.
			cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", child))
			return strings.HasPrefix(string(cmdline), "sleep\x00")
		}
		return false
	})
	return child
}

// procStatusField returns a field of /proc/<pid>/status ("Uid", "CapEff").
func procStatusField(t testing.TB, pid int, field string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	return statusField(string(data), field)
}

// statusField returns a field of a /proc/<pid>/status text.
func statusField(status, field string) string {
	for _, line := range strings.Split(status, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && k == field {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// u32 returns a pointer to v, for optional spec fields.
func u32(v uint32) *uint32 { return &v }

// exists reports whether path exists (without following a final symlink).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// countLines counts the lines of a file (0 if it does not exist).
func countLines(path string) int {
	data, _ := os.ReadFile(path)
	return strings.Count(string(data), "\n")
}

// without returns namespaces without the one of type typ.
func without(namespaces []specs.LinuxNamespace, typ specs.LinuxNamespaceType) []specs.LinuxNamespace {
	var out []specs.LinuxNamespace
	for _, n := range namespaces {
		if n.Type != typ {
			out = append(out, n)
		}
	}
	return out
}
