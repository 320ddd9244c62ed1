package engines

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

// podmanEnv is podman (with conmon, no daemon) on private storage and
// configuration, with the runtime under test as its OCI runtime.
type podmanEnv struct {
	podman *client
	rt     *wrappedRuntime
	dir    string
}

// This host's quirks, found running podman with runc: without
// CAP_SYS_RESOURCE the default ulimits (nofile 1048576) cannot be set, so
// they are 1024:1024; there is no systemd, so the cgroupfs manager and
// file events.
const podmanContainersConf = `[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
`

func startPodman(t testing.TB) *podmanEnv {
	t.Helper()
	requireBinaries(t, "podman", "conmon")
	dir := t.TempDir()
	e := &podmanEnv{dir: dir, rt: wrapRuntime(t, dir)}
	conf := filepath.Join(dir, "containers.conf")
	storage := filepath.Join(dir, "storage.conf")
	os.WriteFile(conf, []byte(podmanContainersConf), 0o644)
	os.WriteFile(storage, []byte(fmt.Sprintf("[storage]\ndriver = \"overlay\"\nrunroot = %q\ngraphroot = %q\n",
		filepath.Join(dir, "runroot"), filepath.Join(dir, "root"))), 0o644)
	_, lockErr := os.Stat("/dev/shm/libpod_lock")
	before := testutil.TakeSnapshot(t)
	e.podman = &client{
		args: []string{"podman", "--root", filepath.Join(dir, "root"), "--runroot", filepath.Join(dir, "runroot"),
			"--tmpdir", filepath.Join(dir, "tmp"), "--runtime", e.rt.path},
		env: []string{"CONTAINERS_CONF=" + conf, "CONTAINERS_STORAGE_CONF=" + storage},
	}
	t.Cleanup(func() {
		e.podman.run(t, "rm", "--all", "--force", "--time", "0")
		for _, pid := range pidsWithCmdline(filepath.Join(dir, "runroot")) {
			t.Logf("ending conmon %d left behind: %s", pid, cmdline(pid))
			unix.Kill(pid, unix.SIGKILL)
		}
		// c/storage keeps its overlay directory mounted on itself.
		unmountUnder(t, dir)
		if os.IsNotExist(lockErr) {
			// Podman's lock segment, made by this test's first podman.
			os.Remove("/dev/shm/libpod_lock")
		}
		// Its parent cgroup, which it leaves with runc too.
		removeNewCgroups(t, before, []string{"/libpod_parent/"})
	})
	if r := e.podman.run(t, "load", "-i", imageTar(t)); r.code != 0 {
		t.Skipf("podman cannot run on this host: podman load: %v", r)
	}
	return e
}

// runFlags are podman run's flags for a container of these tests (no
// network: podman would need netavark and a bridge).
func (e *podmanEnv) runArgs(flags ...string) []string {
	return append([]string{"run", "--network", "none"}, flags...)
}

// state is the container's State.Status as podman inspect reports it.
func (e *podmanEnv) state(t testing.TB, name string) string {
	return strings.TrimSpace(e.podman.must(t, "inspect", "--format", "{{.State.Status}}", name).stdout)
}

func (e *podmanEnv) startSleeper(t testing.TB) (name, id string) {
	t.Helper()
	name = randomName("p-")
	id = strings.TrimSpace(e.podman.must(t, e.runArgs("--detach", "--name", name, testImage, "sleep", "1000")...).stdout)
	t.Cleanup(func() { e.podman.run(t, "rm", "--force", "--time", "0", name) })
	return name, id
}

func TestPodman(t *testing.T) {
	t.Parallel()
	e := startPodman(t)

	t.Run("run", func(t *testing.T) {
		r := e.podman.run(t, e.runArgs("--rm", testImage, "sh", "-c", "echo hello; id -u; exit 3")...)
		if r.code != 3 || r.stdout != "hello\n0\n" {
			t.Errorf("podman run: %v; want exit 3 and the output", r)
		}
		e.rt.assertCalled(t, "create")
		e.rt.assertCalled(t, "start")
		e.rt.assertCalled(t, "delete")
	})

	t.Run("run -it", func(t *testing.T) {
		term := startOnTerminal(t, e.podman.command(e.runArgs("--rm", "-it", testImage, "sh")...), 30, 100)
		term.waitText(t, "# ")
		term.waitWindowSize(t, "30 100")
		term.typeLine("tty; exit 5")
		if code := term.wait(t); code != 5 {
			t.Errorf("podman run -it: exit %d, want 5; terminal:\n%s", code, term.text())
		}
		if out := term.text(); !strings.Contains(out, "\n/dev/pts/0\n") {
			t.Errorf("podman run -it: the terminal shows %q; want the container's pty", out)
		}
	})

	t.Run("exec", func(t *testing.T) {
		name, _ := e.startSleeper(t)
		r := e.podman.run(t, "exec", name, "sh", "-c",
			`echo in exec; [ "$(readlink /proc/self/ns/mnt)" = "$(readlink /proc/1/ns/mnt)" ] && echo same-mnt-ns; exit 4`)
		if r.code != 4 || r.stdout != "in exec\nsame-mnt-ns\n" {
			t.Errorf("podman exec: %v; want exit 4 and the output from the container's mount namespace", r)
		}
		e.rt.assertCalled(t, "exec")
		// podman turns the runtime's "executable file not found" into 127.
		if r := e.podman.run(t, "exec", name, "nonexistent"); r.code != 127 {
			t.Errorf("podman exec of a missing program: %v; want 127", r)
		}
		r = e.podman.run(t, "exec", "--user", "1000:1000", "--workdir", "/tmp", "--env", "X=y", name, "sh", "-c", `echo $(id -u) $(pwd) $X`)
		if r.code != 0 || r.stdout != "1000 /tmp y\n" {
			t.Errorf("podman exec --user --workdir --env: %v", r)
		}
	})

	t.Run("exec -it", func(t *testing.T) {
		name, _ := e.startSleeper(t)
		term := startOnTerminal(t, e.podman.command("exec", "-it", name, "sh"), 30, 100)
		term.waitText(t, "# ")
		term.typeLine("tty; exit 6")
		if code := term.wait(t); code != 6 {
			t.Errorf("podman exec -it: exit %d, want 6; terminal:\n%s", code, term.text())
		}
		if out := term.text(); !strings.Contains(out, "\n/dev/pts/") {
			t.Errorf("podman exec -it: the terminal shows %q; want a pty of the container", out)
		}
	})

	t.Run("stop", func(t *testing.T) {
		name, id := e.startSleeper(t)
		// sleep as pid 1 ignores SIGTERM: stop ends with SIGKILL.
		e.podman.must(t, "stop", "--time", "1", name)
		if st := e.state(t, name); st != "exited" {
			t.Errorf("state after stop = %q, want exited", st)
		}
		e.podman.must(t, "rm", name)
		e.rt.assertCalled(t, "kill")
		assertGone(t, id)
	})

	t.Run("pause and unpause", func(t *testing.T) {
		name, _ := e.startSleeper(t)
		e.podman.must(t, "pause", name)
		if st := e.state(t, name); st != "paused" {
			t.Errorf("state after pause = %q, want paused", st)
		}
		e.podman.must(t, "unpause", name)
		if st := e.state(t, name); st != "running" {
			t.Errorf("state after unpause = %q, want running", st)
		}
		e.rt.assertCalled(t, "pause")
		e.rt.assertCalled(t, "resume")
	})

	t.Run("memory and pids limits", func(t *testing.T) {
		r := e.podman.run(t, e.runArgs("--rm", "--memory", "64m", "--pids-limit", "50", testImage, "sh", "-c",
			"cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max")...)
		if r.code != 0 || r.stdout != "67108864\n50\n" {
			t.Errorf("podman run --memory 64m --pids-limit 50: %v; want the limits in the container's cgroup", r)
		}
	})

	t.Run("user and read-only", func(t *testing.T) {
		r := e.podman.run(t, e.runArgs("--rm", "--user", "1000:1000", "--read-only", testImage, "sh", "-c",
			"id -u; id -g; touch /file 2>/dev/null || echo read-only")...)
		if r.code != 0 || r.stdout != "1000\n1000\nread-only\n" {
			t.Errorf("podman run --user 1000:1000 --read-only: %v", r)
		}
	})
}
