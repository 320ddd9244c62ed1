// Package testutil is shared by tincan's tests: root checks, busybox-static
// root filesystems and OCI bundles, building and running the tincan-oci
// binary, and leak checks. It is imported only from _test.go files.
package testutil

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/spec"
)

// RequiresRoot skips the test unless it runs as root.
func RequiresRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates namespaces, mounts and cgroups")
	}
}

// RepoRoot is the module's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Busybox returns the path of a statically linked busybox, failing the
// test (not skipping it) when busybox-static is not installed, since
// `make deps` installs it.
func Busybox(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	t.Fatal("busybox not found: install busybox-static (make deps)")
	return ""
}

var applets struct {
	once  sync.Once
	names []string
	err   error
}

// NewRootfs fills dir with a minimal busybox root filesystem: /bin with
// every applet, /etc/passwd and /etc/group (root, nobody and a user 1000),
// and empty /dev, /proc, /sys and /tmp.
func NewRootfs(t testing.TB, dir string) {
	t.Helper()
	bb := Busybox(t)
	applets.once.Do(func() {
		out, err := exec.Command(bb, "--list").Output()
		applets.names, applets.err = strings.Fields(string(out)), err
	})
	if applets.err != nil {
		t.Fatalf("busybox --list: %v", applets.err)
	}
	for _, d := range []string{"bin", "etc", "dev", "proc", "sys", "tmp", "root", "home/user"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "tmp"), 0o1777)
	data, err := os.ReadFile(bb)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, a := range applets.names {
		if a != "busybox" {
			os.Symlink("busybox", filepath.Join(dir, "bin", a))
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Bundle is an OCI bundle in a test's temporary directory.
type Bundle struct {
	// Dir is the bundle directory; the rootfs is Dir/rootfs.
	Dir string
	// Spec is written to Dir/config.json by Save.
	Spec *specs.Spec
}

// Rootfs is the bundle's root filesystem directory.
func (b *Bundle) Rootfs() string { return filepath.Join(b.Dir, "rootfs") }

// NewBundle makes a busybox bundle whose process runs args, based on
// `tincan-oci spec` (runc's default config) without a terminal. The config
// is saved; change Spec and call Save again to alter it.
func NewBundle(t testing.TB, args ...string) *Bundle {
	t.Helper()
	dir := t.TempDir()
	// The suite's bundles are readable by other users, so tests of
	// non-root container users exercise the runtime, not this directory.
	os.Chmod(dir, 0o755)
	b := &Bundle{Dir: dir, Spec: spec.Default()}
	NewRootfs(t, b.Rootfs())
	b.Spec.Process.Terminal = false
	if len(args) > 0 {
		b.Spec.Process.Args = args
	}
	b.Save(t)
	return b
}

// Save writes Spec to config.json.
func (b *Bundle) Save(t testing.TB) {
	t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// builtBinary is a binary of this repository built once per test process.
type builtBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

var ociBinary, tincanBinary builtBinary

// get returns $env as an absolute path when set (make test sets it to
// the binary it built), otherwise the command pkg built once per test
// process as name.
func (b *builtBinary) get(t testing.TB, env, name, pkg string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", name+"-test-")
		if err != nil {
			b.err = err
			return
		}
		b.dir = dir
		out := filepath.Join(dir, name)
		cmd := exec.Command("go", "build", "-tags", "osusergo,netgo",
			"-ldflags", "-linkmode external", "-o", out, pkg)
		cmd.Dir = RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.err = errors.New("build " + name + ": " + err.Error() + ": " + string(msg))
			return
		}
		b.path = out
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// OCIBinary returns a tincan-oci binary: $TINCAN_OCI when set (make test
// sets it to the one it built), otherwise one built once per test process.
func OCIBinary(t testing.TB) string {
	t.Helper()
	return ociBinary.get(t, "TINCAN_OCI", "tincan-oci", "./cmd/tincan-oci")
}

// TincanBinary returns a tincan binary: $TINCAN when set (make test sets
// it to the one it built), otherwise one built once per test process.
func TincanBinary(t testing.TB) string {
	t.Helper()
	return tincanBinary.get(t, "TINCAN", "tincan", "./cmd/tincan")
}

// RemoveBuiltBinaries removes the binaries this test process built (for
// TestMain, after the tests ran).
func RemoveBuiltBinaries() {
	for _, b := range []*builtBinary{&ociBinary, &tincanBinary} {
		if b.dir != "" {
			os.RemoveAll(b.dir)
		}
	}
}

// Runtime runs tincan-oci with a private --root for one test.
type Runtime struct {
	// Bin is the tincan-oci binary.
	Bin string
	// Root is the state directory given as --root.
	Root string
}

// NewRuntime returns a runtime with a fresh state root; at cleanup every
// container still in it is force-deleted.
func NewRuntime(t testing.TB) *Runtime {
	t.Helper()
	r := &Runtime{Bin: OCIBinary(t), Root: t.TempDir()}
	t.Cleanup(func() {
		out, _ := exec.Command(r.Bin, "--root", r.Root, "list", "-q").Output()
		for _, id := range strings.Fields(string(out)) {
			exec.Command(r.Bin, "--root", r.Root, "delete", "--force", id).Run()
		}
	})
	return r
}

// Result is what a tincan-oci invocation printed and returned.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Cmd builds a tincan-oci command with --root set.
func (r *Runtime) Cmd(args ...string) *exec.Cmd {
	return exec.Command(r.Bin, append([]string{"--root", r.Root}, args...)...)
}

// Exec runs tincan-oci args (after --root) and collects its output.
// Output goes through files, not pipes: a created container inherits
// tincan-oci's stdio, and a pipe would keep Wait blocked until the
// container exits.
func (r *Runtime) Exec(t testing.TB, args ...string) Result {
	t.Helper()
	cmd := r.Cmd(args...)
	stdout, stderr := tempFile(t), tempFile(t)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	res := Result{Stdout: readBack(t, stdout), Stderr: readBack(t, stderr)}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.Code = exit.ExitCode()
	case err != nil:
		t.Fatalf("run tincan-oci %v: %v", args, err)
	}
	return res
}

func tempFile(t testing.TB) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func readBack(t testing.TB, f *os.File) string {
	t.Helper()
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// MustExec is Exec that fails the test on a non-zero exit.
func (r *Runtime) MustExec(t testing.TB, args ...string) Result {
	t.Helper()
	res := r.Exec(t, args...)
	if res.Code != 0 {
		t.Fatalf("tincan-oci %v: exit %d\nstdout: %s\nstderr: %s", args, res.Code, res.Stdout, res.Stderr)
	}
	return res
}

// State is `tincan-oci state` output.
func (r *Runtime) State(t testing.TB, id string) specs.State {
	t.Helper()
	res := r.MustExec(t, "state", id)
	var st specs.State
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		t.Fatalf("state %s: %v: %q", id, err, res.Stdout)
	}
	return st
}
