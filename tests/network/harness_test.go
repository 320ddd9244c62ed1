// Package network tests tincan's networking end to end through the
// binary: bridge networks, published ports (over loopback, the bridge and
// from a network namespace acting as another host), names on user
// networks, isolation, the /etc files, and that nothing is left behind.
// Traffic goes only to loopback and to namespaces and containers the tests
// made; every wait is bounded.
package network

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/network/firewall"
	"github.com/tincan/tincan/network/link"
)

func TestMain(m *testing.M) {
	code := m.Run()
	testutil.RemoveBuiltBinaries()
	os.Exit(code)
}

var probe struct {
	once sync.Once
	path string
	err  error
}

// probeBinary builds tests/network/probe once, statically.
func probeBinary(t *testing.T) string {
	probe.once.Do(func() {
		dir, err := os.MkdirTemp("", "tincan-probe")
		if err != nil {
			probe.err = err
			return
		}
		probe.path = filepath.Join(dir, "probe")
		cmd := exec.Command("go", "build", "-o", probe.path, "./tests/network/probe")
		cmd.Dir = testutil.RepoRoot()
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			probe.err = fmt.Errorf("build probe: %v\n%s", err, out)
		}
	})
	if probe.err != nil {
		t.Fatal(probe.err)
	}
	return probe.path
}

// env is one test's tincan store, default network and rootfs (busybox,
// the probe, /www/index.html).
type env struct {
	t      *testing.T
	bin    string
	data   string
	run    string
	rootfs string
	bridge []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	testutil.RequiresRoot(t)
	e := &env{t: t, bin: testutil.TincanBinary(t), data: t.TempDir(), run: t.TempDir(),
		rootfs: filepath.Join(t.TempDir(), "rootfs"), bridge: testutil.BridgeEnv()}
	os.Chmod(filepath.Dir(e.rootfs), 0o755)
	testutil.NewRootfs(t, e.rootfs)
	data, err := os.ReadFile(probeBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.rootfs, "bin/probe"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(e.rootfs, "www"), 0o755)
	os.WriteFile(filepath.Join(e.rootfs, "www/index.html"), []byte("hello from tincan\n"), 0o644)
	t.Cleanup(func() {
		out, _ := e.cmd("ps", "-aq").Output()
		for _, id := range strings.Fields(string(out)) {
			e.cmd("rm", "-f", id).Run()
		}
		out, _ = e.cmd("network", "ls", "-q").Output()
		for _, id := range strings.Fields(string(out)) {
			e.cmd("network", "rm", id).Run()
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

// tincan runs the CLI; output goes through files, since a detached
// container could hold a pipe open.
func (e *env) tincan(args ...string) result {
	e.t.Helper()
	cmd := e.cmd(args...)
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

func (e *env) must(args ...string) string {
	e.t.Helper()
	r := e.tincan(args...)
	if r.code != 0 {
		e.t.Fatalf("tincan %v: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// httpd starts a detached busybox httpd serving /www on port 80.
func (e *env) httpd(name string, args ...string) string {
	e.t.Helper()
	a := append([]string{"run", "-d", "--name", name}, args...)
	a = append(a, "--rootfs", e.rootfs, "httpd", "-f", "-p", "80", "-h", "/www")
	return strings.TrimSpace(e.must(a...))
}

// netSettings is the part of inspect the tests read.
type netSettings struct {
	IPAddress         string
	GlobalIPv6Address string
	MacAddress        string
	Networks          map[string]struct{ IPAddress, GlobalIPv6Address string }
	SandboxKey        string
}

func (e *env) inspect(name string) netSettings {
	e.t.Helper()
	var v []struct{ NetworkSettings netSettings }
	if err := json.Unmarshal([]byte(e.must("inspect", name)), &v); err != nil || len(v) != 1 {
		e.t.Fatalf("inspect %s: %v", name, err)
	}
	return v[0].NetworkSettings
}

// freePort is a TCP (and UDP) port free on the host right now.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		p := 20000 + rand.IntN(10000)
		l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
		if err != nil {
			continue
		}
		u, err := net.ListenPacket("udp", fmt.Sprintf(":%d", p))
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		return p
	}
	t.Fatal("no free port")
	return 0
}

// get fetches url from the host (2 s timeout), retrying for up to 10 s
// while the server starts.
func get(t *testing.T, url string) string {
	t.Helper()
	var last error
	c := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				return string(body)
			}
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("GET %s: %v", url, last)
	return ""
}

// leftovers lists what of container ids remains on the host: veths, port
// rules, namespace files.
func (e *env) leftovers(ids ...string) []string {
	e.t.Helper()
	var left []string
	h, err := link.Current()
	if err != nil {
		e.t.Fatal(err)
	}
	defer h.Close()
	links, _ := h.Links("tcv")
	fw, err := firewall.New()
	if err != nil {
		e.t.Fatal(err)
	}
	_, owners, _ := fw.Owners()
	for _, id := range ids {
		for _, l := range links {
			if strings.HasPrefix(l, "tcv"+id[:10]) {
				left = append(left, "veth "+l)
			}
		}
		for _, o := range owners {
			if o == id {
				left = append(left, "port rules of "+id[:12])
			}
		}
		if _, err := os.Stat(filepath.Join(e.run, "netns", id)); err == nil {
			left = append(left, "netns file of "+id[:12])
		}
		if data, _ := os.ReadFile("/proc/self/mountinfo"); bytes.Contains(data, []byte(id)) {
			left = append(left, "mount of "+id[:12])
		}
	}
	if data, err := os.ReadFile(filepath.Join(e.data, "networks", "state.json")); err == nil {
		var st struct {
			Sandboxes []any
			Endpoints []any
		}
		json.Unmarshal(data, &st)
		if len(st.Sandboxes)+len(st.Endpoints) > 0 {
			left = append(left, fmt.Sprintf("%d sandboxes and %d leases in state.json", len(st.Sandboxes), len(st.Endpoints)))
		}
	}
	return left
}

// bridgeName is the test store's default bridge.
func (e *env) bridgeName() string {
	return strings.TrimPrefix(e.bridge[0], "TINCAN_BRIDGE_NAME=")
}

// linkExists reports whether the host has a link of that name.
func linkExists(name string) bool {
	_, err := net.InterfaceByName(name)
	return err == nil
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

// mustKill SIGKILLs a process this test started (through tincan) and
// waits until it is gone (bounded).
func mustKill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil || bytes.Contains(data, []byte(") Z ")) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d outlived SIGKILL", pid)
}
