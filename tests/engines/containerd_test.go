package engines

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tincan/tincan/internal/testutil"
)

// randomName is a short unique name for namespaces and containers.
func randomName(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// containerdEnv is a private containerd and a ctr client for it, with the
// runtime under test given to the io.containerd.runc.v2 shim as its runc
// binary (what BinaryName does in containerd's config, and
// `ctr run --runc-binary`).
type containerdEnv struct {
	ctr     *client
	rt      *wrappedRuntime
	dir     string
	ns      string
	rtFlags []string
}

func startContainerd(t testing.TB) *containerdEnv {
	t.Helper()
	requireBinaries(t, "containerd", "ctr", "containerd-shim-runc-v2")
	dir := t.TempDir()
	e := &containerdEnv{dir: dir, rt: wrapRuntime(t, dir), ns: randomName("tincan-test-")}
	sock := filepath.Join(dir, "containerd.sock")
	config := fmt.Sprintf(`version = 2
root = %q
state = %q
# No CRI (it wants CNI and would manage pods), no snapshotters this host cannot run.
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), sock, sock+".ttrpc")
	cfg := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, &daemon{name: "containerd", dir: dir, helpers: "-address " + sock, cgroups: []string{"/" + e.ns + "/"}},
		socketReady(sock), "containerd", "--config", cfg)
	e.ctr = &client{args: []string{"ctr", "--address", sock, "--namespace", e.ns}}
	e.rtFlags = []string{"--runc-binary", e.rt.path, "--runc-root", filepath.Join(dir, "runc"), "--fifo-dir", filepath.Join(dir, "fifo")}
	e.ctr.must(t, "images", "import", imageTar(t))
	return e
}

// runArgs is `ctr run` with the runtime under test.
func (e *containerdEnv) runArgs(flags ...string) []string {
	return append(append([]string{"run"}, e.rtFlags...), flags...)
}

// execArgs is `ctr task exec` with its fifos in the test's directory.
func (e *containerdEnv) execArgs(flags ...string) []string {
	return append([]string{"task", "exec", "--fifo-dir", filepath.Join(e.dir, "fifo")}, flags...)
}

// removeAtCleanup kills and removes container id at the end of the test.
func (e *containerdEnv) removeAtCleanup(t testing.TB, id string) {
	t.Cleanup(func() {
		e.ctr.run(t, "task", "kill", "-s", "KILL", id)
		e.ctr.run(t, "task", "delete", "--force", id)
		e.ctr.run(t, "container", "rm", id)
	})
}

// taskStatus is the STATUS column of `ctr task ls` for id.
func (e *containerdEnv) taskStatus(t testing.TB, id string) string {
	for _, line := range strings.Split(e.ctr.must(t, "task", "ls").stdout, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == id {
			return f[2]
		}
	}
	return ""
}

// startSleeper runs a detached container running sleep and returns its id.
func (e *containerdEnv) startSleeper(t testing.TB) string {
	t.Helper()
	id := randomName("c-")
	e.removeAtCleanup(t, id)
	e.ctr.must(t, e.runArgs("--detach", testImage, id, "sleep", "1000")...)
	waitFor(t, "the task to run", func() bool { return e.taskStatus(t, id) == "RUNNING" })
	return id
}

func TestContainerd(t *testing.T) {
	t.Parallel()
	e := startContainerd(t)

	t.Run("run", func(t *testing.T) {
		id := randomName("c-")
		r := e.ctr.run(t, e.runArgs("--rm", testImage, id, "sh", "-c", "echo hello; id -u; exit 3")...)
		if r.code != 3 || r.stdout != "hello\n0\n" {
			t.Errorf("ctr run: %v; want exit 3 and the output", r)
		}
		e.rt.assertCalled(t, "create")
		e.rt.assertCalled(t, "start")
		e.rt.assertCalled(t, "delete")
		assertGone(t, id)
	})

	t.Run("run with a generated spec", func(t *testing.T) {
		// ctr run has no --user, --hostname or --pids-limit: the spec
		// is given whole with --config.
		spec := e.ctr.must(t, "oci", "spec").stdout
		var s map[string]any
		if err := json.Unmarshal([]byte(spec), &s); err != nil {
			t.Fatal(err)
		}
		id := randomName("c-")
		rootfs := filepath.Join(t.TempDir(), "rootfs")
		testutil.NewRootfs(t, rootfs)
		process := s["process"].(map[string]any)
		process["user"] = map[string]any{"uid": 1000, "gid": 1000}
		process["env"] = []string{"PATH=/bin"}
		process["args"] = []string{"sh", "-c", "id -u; hostname; exec sleep 1000"}
		s["hostname"] = "tincan-box"
		s["root"] = map[string]any{"path": rootfs}
		linux := s["linux"].(map[string]any)
		linux["resources"] = map[string]any{"pids": map[string]any{"limit": 20}}
		cgroup := "/" + e.ns + "/" + id
		linux["cgroupsPath"] = cgroup
		data, _ := json.Marshal(s)
		cfg := filepath.Join(t.TempDir(), "config.json")
		os.WriteFile(cfg, data, 0o644)
		out := filepath.Join(t.TempDir(), "stdout")
		e.removeAtCleanup(t, id)
		e.ctr.must(t, e.runArgs("--detach", "--log-uri", "file://"+out, "--config", cfg, id)...)
		waitFor(t, "the container's output", func() bool {
			data, _ := os.ReadFile(out)
			return strings.Contains(string(data), "tincan-box\n")
		})
		if data, _ := os.ReadFile(out); string(data) != "1000\ntincan-box\n" {
			t.Errorf("ctr run --config: output %q, want uid 1000 and the hostname", data)
		}
		limit := ""
		for _, p := range []string{"/sys/fs/cgroup/pids" + cgroup + "/pids.max", "/sys/fs/cgroup" + cgroup + "/pids.max"} {
			if data, err := os.ReadFile(p); err == nil {
				limit = strings.TrimSpace(string(data))
			}
		}
		if limit != "20" {
			t.Errorf("pids.max of the container's cgroup %s = %q, want 20", cgroup, limit)
		}
	})

	t.Run("run -t", func(t *testing.T) {
		id := randomName("c-")
		term := startOnTerminal(t, e.ctr.command(e.runArgs("--rm", "-t", testImage, id, "sh")...), 30, 100)
		term.waitText(t, "# ")
		term.waitWindowSize(t, "30 100")
		term.typeLine("tty; exit 5")
		if code := term.wait(t); code != 5 {
			t.Errorf("ctr run -t: exit %d, want 5; terminal:\n%s", code, term.text())
		}
		if out := term.text(); !strings.Contains(out, "\n/dev/pts/0\n") {
			t.Errorf("ctr run -t: the terminal shows %q; want the container's pty", out)
		}
		assertGone(t, id)
	})

	t.Run("exec", func(t *testing.T) {
		id := e.startSleeper(t)
		r := e.ctr.run(t, e.execArgs("--exec-id", "e1", id, "sh", "-c",
			`echo in exec; [ "$(readlink /proc/self/ns/pid)" = "$(readlink /proc/1/ns/pid)" ] && echo same-pid-ns; exit 4`)...)
		if r.code != 4 || r.stdout != "in exec\nsame-pid-ns\n" {
			t.Errorf("ctr task exec: %v; want exit 4 and the output from the container's pid namespace", r)
		}
		e.rt.assertCalled(t, "exec")
		r = e.ctr.run(t, e.execArgs("--exec-id", "e2", id, "/nonexistent")...)
		if r.code == 0 || !strings.Contains(r.stderr, "no such file or directory") {
			t.Errorf("ctr task exec of a missing program: %v; want the runtime's error", r)
		}
	})

	t.Run("exec -t", func(t *testing.T) {
		id := e.startSleeper(t)
		term := startOnTerminal(t, e.ctr.command(e.execArgs("-t", "--exec-id", "e3", id, "sh")...), 30, 100)
		term.waitText(t, "# ")
		term.typeLine("tty; exit 6")
		if code := term.wait(t); code != 6 {
			t.Errorf("ctr task exec -t: exit %d, want 6; terminal:\n%s", code, term.text())
		}
		if out := term.text(); !strings.Contains(out, "\n/dev/pts/0\n") {
			t.Errorf("ctr task exec -t: the terminal shows %q; want a pty of the container", out)
		}
	})

	t.Run("pause and resume", func(t *testing.T) {
		id := e.startSleeper(t)
		e.ctr.must(t, "task", "pause", id)
		if st := e.taskStatus(t, id); st != "PAUSED" {
			t.Errorf("status after pause = %q, want PAUSED", st)
		}
		e.ctr.must(t, "task", "resume", id)
		if st := e.taskStatus(t, id); st != "RUNNING" {
			t.Errorf("status after resume = %q, want RUNNING", st)
		}
		e.rt.assertCalled(t, "pause")
		e.rt.assertCalled(t, "resume")
	})

	t.Run("metrics and ps", func(t *testing.T) {
		id := e.startSleeper(t)
		r := e.ctr.must(t, "task", "metrics", id)
		if !strings.Contains(r.stdout, "pids.current") || !strings.Contains(r.stdout, "memory.usage_in_bytes") && !strings.Contains(r.stdout, "memory.usage") {
			t.Errorf("ctr task metrics: %v; want the pids and memory figures of the container's cgroup", r)
		}
		r = e.ctr.must(t, "task", "ps", id)
		if len(strings.Split(strings.TrimSpace(r.stdout), "\n")) != 2 {
			t.Errorf("ctr task ps: %v; want one process", r)
		}
	})

	t.Run("kill and delete", func(t *testing.T) {
		id := e.startSleeper(t)
		e.ctr.must(t, "task", "kill", "-s", "KILL", id)
		waitFor(t, "the task to stop", func() bool { return e.taskStatus(t, id) == "STOPPED" })
		// Another kill of the exited task: engines rely on the runtime's
		// "not running" answer.
		e.ctr.run(t, "task", "kill", "-s", "KILL", id)
		e.ctr.must(t, "task", "delete", id)
		e.ctr.must(t, "container", "rm", id)
		e.rt.assertCalled(t, "kill")
		assertGone(t, id)
	})
}
