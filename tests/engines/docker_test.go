package engines

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dockerEnv is a private dockerd (with the containerd it starts itself)
// and a docker client for it; the runtime under test is added as the
// runtime "tincan" and every container here runs with --runtime tincan.
type dockerEnv struct {
	docker *client
	rt     *wrappedRuntime
	dir    string
}

func startDocker(t testing.TB) *dockerEnv {
	t.Helper()
	requireBinaries(t, "dockerd", "docker", "containerd", "containerd-shim-runc-v2")
	// The client of the docker.io package, which matches the daemon's API.
	dockerCLI := "/usr/bin/docker"
	if _, err := os.Stat(dockerCLI); err != nil {
		dockerCLI = "docker"
	}
	dir := t.TempDir()
	e := &dockerEnv{dir: dir, rt: wrapRuntime(t, dir)}
	sock := filepath.Join(dir, "docker.sock")
	execRoot := filepath.Join(dir, "exec")
	// The trust key would otherwise go to /etc/docker/key.json.
	os.WriteFile(filepath.Join(dir, "daemon.json"), []byte(`{"deprecated-key-path": "`+filepath.Join(dir, "key.json")+`"}`), 0o644)
	startDaemon(t, &daemon{name: "dockerd", dir: dir, helpers: execRoot, cgroups: []string{"/docker/"}},
		socketReady(sock),
		"dockerd",
		"--config-file", filepath.Join(dir, "daemon.json"),
		"--data-root", filepath.Join(dir, "root"),
		"--exec-root", execRoot,
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"--host", "unix://"+sock,
		// This host: no bridge, no iptables; containers use --network none.
		"--bridge", "none", "--iptables=false", "--ip-masq=false", "--ip6tables=false",
		"--add-runtime", "tincan="+e.rt.path,
	)
	e.docker = &client{
		args: []string{dockerCLI, "--host", "unix://" + sock},
		env:  []string{"DOCKER_CONFIG=" + filepath.Join(dir, "client")},
	}
	t.Cleanup(func() {
		r := e.docker.run(t, "ps", "--all", "--quiet")
		for _, id := range strings.Fields(r.stdout) {
			e.docker.run(t, "rm", "--force", id)
		}
	})
	e.docker.must(t, "load", "--input", imageTar(t))
	return e
}

func (e *dockerEnv) runArgs(flags ...string) []string {
	return append([]string{"run", "--runtime", "tincan", "--network", "none"}, flags...)
}

func (e *dockerEnv) inspect(t testing.TB, format, name string) string {
	return strings.TrimSpace(e.docker.must(t, "inspect", "--format", format, name).stdout)
}

func (e *dockerEnv) startSleeper(t testing.TB) (name, id string) {
	t.Helper()
	name = randomName("d-")
	id = strings.TrimSpace(e.docker.must(t, e.runArgs("--detach", "--name", name, testImage, "sleep", "1000")...).stdout)
	t.Cleanup(func() { e.docker.run(t, "rm", "--force", name) })
	return name, id
}

func TestDocker(t *testing.T) {
	t.Parallel()
	e := startDocker(t)

	t.Run("run", func(t *testing.T) {
		r := e.docker.run(t, e.runArgs("--rm", testImage, "sh", "-c", "echo hello; id -u; exit 3")...)
		if r.code != 3 || r.stdout != "hello\n0\n" {
			t.Errorf("docker run: %v; want exit 3 and the output", r)
		}
		e.rt.assertCalled(t, "create")
		e.rt.assertCalled(t, "start")
		e.rt.assertCalled(t, "delete")
		// dockerd gives a runtime of its own a state root under its
		// exec root.
		if calls := e.rt.calls("create"); len(calls) > 0 && !strings.Contains(calls[0], "--root "+filepath.Join(e.dir, "exec")) {
			t.Errorf("dockerd ran %s create as %q; expected --root under its exec root", e.rt.name, calls[0])
		}
	})

	t.Run("run -it", func(t *testing.T) {
		term := startOnTerminal(t, e.docker.command(e.runArgs("--rm", "-it", testImage, "sh")...), 30, 100)
		term.waitText(t, "# ")
		term.waitWindowSize(t, "30 100")
		term.typeLine("tty; exit 5")
		if code := term.wait(t); code != 5 {
			t.Errorf("docker run -it: exit %d, want 5; terminal:\n%s", code, term.text())
		}
		if out := term.text(); !strings.Contains(out, "\n/dev/pts/0\n") {
			t.Errorf("docker run -it: the terminal shows %q; want the container's pty", out)
		}
	})

	t.Run("exec", func(t *testing.T) {
		name, _ := e.startSleeper(t)
		r := e.docker.run(t, "exec", name, "sh", "-c",
			`echo in exec; [ "$(readlink /proc/self/ns/net)" = "$(readlink /proc/1/ns/net)" ] && echo same-net-ns; exit 4`)
		if r.code != 4 || r.stdout != "in exec\nsame-net-ns\n" {
			t.Errorf("docker exec: %v; want exit 4 and the output from the container's network namespace", r)
		}
		e.rt.assertCalled(t, "exec")
		r = e.docker.run(t, "exec", "--user", "1000", "--workdir", "/tmp", name, "sh", "-c", `echo $(id -u) $(pwd)`)
		if r.code != 0 || r.stdout != "1000 /tmp\n" {
			t.Errorf("docker exec --user --workdir: %v", r)
		}
		// dockerd 20.10 reports a failed exec as 126, with the runtime's
		// error (on stdout).
		r = e.docker.run(t, "exec", name, "nonexistent")
		if r.code != 126 || !strings.Contains(r.stdout+r.stderr, "executable file not found") {
			t.Errorf("docker exec of a missing program: %v; want 126 and the runtime's error", r)
		}
	})

	t.Run("exec -it", func(t *testing.T) {
		name, _ := e.startSleeper(t)
		term := startOnTerminal(t, e.docker.command("exec", "-it", name, "sh"), 30, 100)
		term.waitText(t, "# ")
		term.typeLine("tty; exit 6")
		if code := term.wait(t); code != 6 {
			t.Errorf("docker exec -it: exit %d, want 6; terminal:\n%s", code, term.text())
		}
		if out := term.text(); !strings.Contains(out, "\n/dev/pts/") {
			t.Errorf("docker exec -it: the terminal shows %q; want a pty of the container", out)
		}
	})

	t.Run("stop", func(t *testing.T) {
		name, id := e.startSleeper(t)
		e.docker.must(t, "stop", "--time", "1", name)
		if st := e.inspect(t, "{{.State.Status}} {{.State.ExitCode}}", name); st != "exited 137" {
			t.Errorf("state after stop = %q, want exited 137 (sleep as pid 1 ignores SIGTERM)", st)
		}
		e.docker.must(t, "rm", name)
		assertGone(t, id)
	})

	t.Run("kill", func(t *testing.T) {
		name, id := e.startSleeper(t)
		e.docker.must(t, "kill", name)
		waitFor(t, "the container to exit", func() bool { return e.inspect(t, "{{.State.Status}}", name) == "exited" })
		if code := e.inspect(t, "{{.State.ExitCode}}", name); code != "137" {
			t.Errorf("exit code after docker kill = %s, want 137", code)
		}
		// Killing it again: the runtime says it is not running.
		if r := e.docker.run(t, "kill", name); r.code == 0 {
			t.Errorf("docker kill of an exited container succeeded: %v", r)
		}
		e.docker.must(t, "rm", name)
		e.rt.assertCalled(t, "kill")
		assertGone(t, id)
	})

	t.Run("resource limits", func(t *testing.T) {
		r := e.docker.run(t, e.runArgs("--rm", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5", testImage, "sh", "-c",
			"cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || "+
				"cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max")...)
		if r.code != 0 || (r.stdout != "67108864\n50\n50000\n" && r.stdout != "67108864\n50\n50000 100000\n") {
			t.Errorf("docker run --memory 64m --pids-limit 50 --cpus 0.5: %v; want the limits in the container's cgroup", r)
		}
	})

	t.Run("pause and unpause", func(t *testing.T) {
		name, _ := e.startSleeper(t)
		e.docker.must(t, "pause", name)
		if st := e.inspect(t, "{{.State.Status}}", name); st != "paused" {
			t.Errorf("state after pause = %q, want paused", st)
		}
		e.docker.must(t, "unpause", name)
		if st := e.inspect(t, "{{.State.Status}}", name); st != "running" {
			t.Errorf("state after unpause = %q, want running", st)
		}
	})
}
