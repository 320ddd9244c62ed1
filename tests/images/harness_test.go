// Package images tests tincan's image handling end to end against a real
// registry (Debian's docker-registry on 127.0.0.1), with images the tests
// build from busybox-static, cross-checked with skopeo, podman and umoci.
package images

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tincan/tincan/internal/testutil"
)

// TestMain removes the binary the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuiltBinaries()
	os.Exit(code)
}

// env is one test's private tincan data root and docker config.
type env struct {
	t      *testing.T
	bin    string
	data   string
	docker string // DOCKER_CONFIG
	extra  []string
	bridge []string // the store's own default network (testutil.BridgeEnv)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testutil.RequiresRoot(t)
	e := &env{t: t, bin: testutil.TincanBinary(t), data: t.TempDir(), docker: t.TempDir(), bridge: testutil.BridgeEnv()}
	return e
}

type result struct {
	stdout, stderr string
	code           int
}

func (e *env) cmd(args ...string) *exec.Cmd {
	cmd := exec.Command(e.bin, args...)
	cmd.Env = append(os.Environ(), "TINCAN_DATA="+e.data, "TINCAN_RUN="+filepath.Join(e.data, "run"), "DOCKER_CONFIG="+e.docker)
	cmd.Env = append(cmd.Env, e.bridge...)
	cmd.Env = append(cmd.Env, e.extra...)
	return cmd
}

// tincan runs the CLI and collects its output.
func (e *env) tincan(args ...string) result {
	e.t.Helper()
	cmd := e.cmd(args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		r.code = exit.ExitCode()
	} else if err != nil {
		e.t.Fatalf("tincan %v: %v", args, err)
	}
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

// fails runs a command that must fail with a one-line error containing
// want, and returns that line.
func (e *env) fails(want string, args ...string) string {
	e.t.Helper()
	r := e.tincan(args...)
	if r.code == 0 {
		e.t.Fatalf("tincan %v succeeded, want an error with %q\nstdout: %s", args, want, r.stdout)
	}
	// Progress lines may come first; the error is one "tincan:" line, last.
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	line := lines[len(lines)-1]
	if strings.Count(r.stderr, "tincan: ") != 1 || !strings.HasPrefix(line, "tincan: ") || strings.Contains(r.stderr, "goroutine ") {
		e.t.Errorf("tincan %v: error is not one line: %q", args, r.stderr)
	}
	if !strings.Contains(line, want) {
		e.t.Fatalf("tincan %v: error %q does not say %q", args, line, want)
	}
	return line
}

// run runs a tool (skopeo, podman, umoci) and returns its stdout.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// skopeo runs skopeo with no policy file dependency.
func skopeo(t *testing.T, args ...string) string {
	t.Helper()
	return run(t, "skopeo", append([]string{"--insecure-policy"}, args...)...)
}

// podman is a podman with private storage (vfs), runtime directory and
// configuration, per the quirks of this host: no CAP_SYS_RESOURCE (so
// explicit ulimits), no systemd (cgroupfs, file events).
type podman struct {
	t         *testing.T
	root, env []string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	dir := t.TempDir()
	conf := filepath.Join(dir, "containers.conf")
	os.WriteFile(conf, []byte(`[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`), 0o644)
	regs := filepath.Join(dir, "registries.conf")
	os.WriteFile(regs, []byte("unqualified-search-registries = []\n"), 0o644)
	p := &podman{t: t, root: []string{"--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "run"),
		"--storage-driver", "vfs"}, env: []string{"CONTAINERS_CONF=" + conf, "CONTAINERS_REGISTRIES_CONF=" + regs}}
	t.Cleanup(func() {
		cmd := exec.Command("podman", append(p.root, "system", "reset", "--force")...)
		cmd.Env = append(os.Environ(), p.env...)
		cmd.Run()
	})
	return p
}

func (p *podman) run(args ...string) string {
	p.t.Helper()
	cmd := exec.Command("podman", append(p.root, args...)...)
	cmd.Env = append(os.Environ(), p.env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		p.t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}
