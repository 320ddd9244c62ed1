package security

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/spec/seccompprofile"
)

var attack struct {
	once sync.Once
	path string
	err  error
}

// attackBinary builds ./internal/attack once per test process, static, so
// that it runs in the busybox rootfs.
func attackBinary(t *testing.T) string {
	t.Helper()
	attack.once.Do(func() {
		dir, err := os.MkdirTemp("", "tincan-attack-")
		if err != nil {
			attack.err = err
			return
		}
		attack.path = filepath.Join(dir, "attack")
		cmd := exec.Command("go", "build", "-o", attack.path, "./tests/security/internal/attack")
		cmd.Dir = testutil.RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			attack.err = errors.New("build attack: " + err.Error() + ": " + string(out))
		}
	})
	if attack.err != nil {
		t.Fatal(attack.err)
	}
	return attack.path
}

// newBundle makes a busybox bundle with the attack program at /attack,
// running it with args.
func newBundle(t *testing.T, args ...string) *testutil.Bundle {
	t.Helper()
	testutil.RequiresRoot(t)
	b := testutil.NewBundle(t)
	copyFile(t, attackBinary(t), filepath.Join(b.Rootfs(), "attack"), 0o755)
	b.Spec.Process.Args = append([]string{"/attack"}, args...)
	b.Spec.Process.Env = append(b.Spec.Process.Env, "TINCAN_ATTACK_IN_CONTAINER=1")
	b.Save(t)
	return b
}

func copyFile(t *testing.T, src, dst string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		t.Fatal(err)
	}
	// WriteFile's mode is trimmed by the umask and cannot set setuid.
	if err := os.Chmod(dst, mode); err != nil {
		t.Fatal(err)
	}
}

// withDefaultSeccomp gives the bundle tincan's default seccomp profile,
// resolved for the process's bounding set.
func withDefaultSeccomp(t *testing.T, b *testutil.Bundle) {
	t.Helper()
	var caps []string
	if c := b.Spec.Process.Capabilities; c != nil {
		caps = c.Bounding
	}
	b.Spec.Linux.Seccomp = seccompprofile.ForCaps(caps, runtime.GOARCH)
	if b.Spec.Linux.Seccomp == nil {
		t.Fatalf("no default seccomp profile for %s", runtime.GOARCH)
	}
	b.Save(t)
}

var nonIDChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// containerID is unique per test and run; it also marks leaks.
func containerID(t *testing.T) string {
	t.Helper()
	name := strings.ToLower(strings.Trim(nonIDChars.ReplaceAllString(strings.TrimPrefix(t.Name(), "Test"), "-"), "-"))
	if len(name) > 40 {
		name = name[:40]
	}
	var b [4]byte
	rand.Read(b[:])
	return name + "-" + hex.EncodeToString(b[:])
}

// run runs a container of b in the foreground and returns what it printed.
func run(t *testing.T, r *testutil.Runtime, b *testutil.Bundle) testutil.Result {
	t.Helper()
	id := containerID(t)
	t.Cleanup(func() { r.Cmd("delete", "--force", id).Run() })
	return r.Exec(t, "run", "--bundle", b.Dir, id)
}

// mustRun is run that fails the test unless the container exits 0, and
// parses its "key=value" output.
func mustRun(t *testing.T, r *testutil.Runtime, b *testutil.Bundle) map[string]string {
	t.Helper()
	res := run(t, r, b)
	if res.Code != 0 {
		t.Fatalf("container %v: exit %d\nstdout: %s\nstderr: %s", b.Spec.Process.Args, res.Code, res.Stdout, res.Stderr)
	}
	return keyValues(res.Stdout)
}

// keyValues parses "key=value" lines.
func keyValues(out string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
		}
	}
	return m
}

// create creates container id of b with its stdio on files in a temporary
// directory; it is force-deleted at cleanup.
func create(t *testing.T, r *testutil.Runtime, b *testutil.Bundle, id string) {
	t.Helper()
	out, err := os.Create(filepath.Join(t.TempDir(), "stdio"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := r.Cmd("create", "--bundle", b.Dir, id)
	cmd.Stdout, cmd.Stderr = out, out
	t.Cleanup(func() { r.Cmd("delete", "--force", id).Run() })
	if err := cmd.Run(); err != nil {
		data, _ := os.ReadFile(out.Name())
		t.Fatalf("create %s: %v: %s", id, err, data)
	}
}

// waitFile polls for path to exist (bounded).
func waitFile(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sharedDir binds a fresh host directory, writable by all, at dest in the
// container (saved) and returns its host path.
func sharedDir(t *testing.T, b *testutil.Bundle, dest string) string {
	t.Helper()
	dir := t.TempDir()
	os.Chmod(dir, 0o777)
	os.MkdirAll(filepath.Join(b.Rootfs(), dest), 0o755)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: dest, Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
	b.Save(t)
	return dir
}

// expectCreateRefused checks that create of b fails with one line naming
// want, and leaves nothing behind.
func expectCreateRefused(t *testing.T, r *testutil.Runtime, b *testutil.Bundle, want string) {
	t.Helper()
	id := containerID(t)
	before := testutil.TakeSnapshot(t)
	t.Cleanup(func() { r.Cmd("delete", "--force", id).Run() })
	res := r.Exec(t, "create", "--bundle", b.Dir, id)
	if res.Code == 0 {
		t.Fatalf("create %s succeeded; want a refusal containing %q", id, want)
	}
	if msg := strings.TrimSpace(res.Stderr); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
		t.Errorf("create %s: stderr %q, want one line containing %q", id, res.Stderr, want)
	}
	if leaks := testutil.Leaks(before, testutil.TakeSnapshot(t), id, b.Dir); len(leaks) > 0 {
		t.Errorf("refused create of %s left %v", id, leaks)
	}
}
