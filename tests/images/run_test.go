package images

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestRunImage: run IMAGE pulls a missing image (quietly: stderr is no
// terminal) and runs its Cmd, or the arguments given instead; the exit
// status is the container's; ps shows the image; the native snapshotter
// runs it too.
func TestRunImage(t *testing.T) {
	reg := startRegistry(t, "")
	ref := reg.Host + "/plain:v1"
	pushImage(t, plainImage(t, "plain-default"), ref)
	for _, driver := range []string{"overlay", "native"} {
		t.Run(driver, func(t *testing.T) {
			e := newRunEnv(t)
			e.extra = []string{"TINCAN_STORAGE_DRIVER=" + driver}
			r := e.must("run", "--rm", ref, "echo", "hi")
			if r.stdout != "hi\n" || r.stderr != "" {
				t.Fatalf("run %s echo hi: stdout %q, stderr %q", ref, r.stdout, r.stderr)
			}
			if out := e.must("images", "-q").stdout; strings.Count(out, "\n") != 1 {
				t.Fatalf("the image was not pulled once: %q", out)
			}
			if out := e.must("run", "--rm", ref).stdout; out != "plain-default\n" {
				t.Fatalf("the image's Cmd printed %q", out)
			}
			if r := e.tincan("run", "--rm", ref, "sh", "-c", "exit 3"); r.code != 3 {
				t.Fatalf("exit status %d, want 3 (stderr %q)", r.code, r.stderr)
			}
			if r := e.tincan("run", "--rm", ref, "no-such-command"); r.code != 127 {
				t.Fatalf("a missing command: exit %d, want 127 (stderr %q)", r.code, r.stderr)
			}
			e.must("run", "--name", "kept", ref, "true")
			ps := e.must("ps", "-a").stdout
			if !strings.Contains(lines(ps)[0], "IMAGE") || !strings.Contains(ps, ref) {
				t.Fatalf("ps -a does not show the image:\n%s", ps)
			}
			if v := e.inspectContainer("kept"); v.Image != ref || v.ImageID != e.inspect(ref).ID || v.Config.Image != ref {
				t.Fatalf("inspect: Image %q ImageID %q Config.image %q; want %s, %s", v.Image, v.ImageID, v.Config.Image, ref, e.inspect(ref).ID)
			}
		})
	}
}

// TestRunImageConfig: the image's Entrypoint, Cmd, Env, WorkingDir (made
// when missing), User (a name from the image's own /etc/passwd, which an
// upper layer replaced), StopSignal, ExposedPorts and Labels apply, and
// run's flags override them as docker's do.
func TestRunImageConfig(t *testing.T) {
	e := newRunEnv(t)
	reg := startRegistry(t, "")
	ref := reg.Host + "/app:v1"
	pushImage(t, appImage(t), ref)
	e.must("pull", "-q", ref)

	run := func(want string, args ...string) {
		t.Helper()
		out := e.must(append([]string{"run", "--rm"}, args...)...).stdout
		if out != want {
			t.Fatalf("run %q:\n%s\nwant:\n%s", args, out, want)
		}
	}
	// The image's config: entrypoint + cmd, user app with its groups and
	// home, the working directory created, the image's environment.
	run("image-cmd\n4242\n4343 5555\n/work/dir\nhello img /home/app\n", ref)
	// Arguments replace Cmd, not Entrypoint; -u, -w and -e win.
	run("mine\n0\n/tmp\nbye img\n", "-u", "0", "-w", "/tmp", "-e", "GREETING=bye", ref,
		`echo mine; id -u; pwd; echo "$GREETING $KEEP"`)
	// A group by name from the image's /etc/group.
	run("4242 5555\n", "-u", "app:extra", ref, "echo $(id -u) $(id -g)")
	// --entrypoint replaces the entrypoint and drops the image's Cmd.
	run("\n", "--entrypoint", "/bin/echo", ref)
	run("a b\n", "--entrypoint", "/bin/echo", ref, "a", "b")
	// --entrypoint "" leaves the arguments alone.
	run("x\n", "--entrypoint", "", ref, "echo", "x")
	// A read-only root still gets its working directory; volumes stay
	// writable.
	r := e.tincan("run", "--rm", "--read-only", ref, "pwd; touch /data/ok && echo volume-ok; touch /x")
	if r.code != 1 || r.stdout != "/work/dir\nvolume-ok\n" || !strings.Contains(r.stderr, "Read-only file system") {
		t.Fatalf("--read-only: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	// Stop signal: the image's (SIGUSR1), unless --stop-signal.
	script := `trap "echo got-usr1; exit 0" USR1; trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.1; done`
	e.must("run", "-d", "--name", "img-signal", "--label", "org.example.both=cli", ref, script)
	e.must("run", "-d", "--name", "cli-signal", "--stop-signal", "TERM", ref, script)
	for name, want := range map[string]string{"img-signal": "got-usr1", "cli-signal": "got-term"} {
		e.logsUntil(name, "ready")
		e.must("stop", "-t", "10", name)
		if out := e.must("logs", name).stdout; !strings.Contains(out, want) {
			t.Fatalf("%s: stop delivered the wrong signal: %q, want %s", name, out, want)
		}
	}
	v := e.inspectContainer("img-signal")
	if v.Config.StopSignal != "SIGUSR1" || e.inspectContainer("cli-signal").Config.StopSignal != "TERM" {
		t.Fatalf("recorded stop signals: %q and %q", v.Config.StopSignal, e.inspectContainer("cli-signal").Config.StopSignal)
	}
	if !reflect.DeepEqual(v.Config.ExposedPorts, []string{"8080/tcp"}) {
		t.Fatalf("exposed ports: %q", v.Config.ExposedPorts)
	}
	if v.Config.Labels["org.example.from"] != "image" || v.Config.Labels["org.example.both"] != "cli" {
		t.Fatalf("labels: %v, want the image's with --label winning", v.Config.Labels)
	}
	if !slices.Contains(v.Config.Env, "GREETING=hello") || !slices.Contains(v.Config.Env, "PATH=/bin") {
		t.Fatalf("env: %q", v.Config.Env)
	}
}

// TestRunImageVolume: an image VOLUME becomes an anonymous volume filled
// with the image's files there (the merged view: whiteouts applied, owner
// and mode kept); a -v on the same path replaces it; rm -v and --rm
// remove it, rm alone keeps it; the snapshots never change.
func TestRunImageVolume(t *testing.T) {
	e := newRunEnv(t)
	reg := startRegistry(t, "")
	ref := reg.Host + "/app:v1"
	pushImage(t, appImage(t), ref)
	e.must("pull", "-q", ref)
	before := e.snapshotTrees()

	out := e.must("run", "--name", "v1", ref, `ls /data; stat -c "%u:%g %a" /data; echo by-container > /data/written`).stdout
	if out != "new\nseed\n4242:4343 750\n" {
		t.Fatalf("the volume shows:\n%s", out)
	}
	v := e.inspectContainer("v1")
	if len(v.Config.Mounts) != 1 || !v.Config.Mounts[0].Anonymous || v.Config.Mounts[0].Destination != "/data" {
		t.Fatalf("mounts: %+v, want one anonymous volume on /data", v.Config.Mounts)
	}
	vol := v.Config.Mounts[0].Source
	data := filepath.Join(e.data, "volumes", vol, "_data")
	for name, want := range map[string]string{"seed": "seeded\n", "new": "new\n", "written": "by-container\n"} {
		if got, err := os.ReadFile(filepath.Join(data, name)); err != nil || string(got) != want {
			t.Fatalf("volume file %s: %q, %v; want %q", name, got, err, want)
		}
	}
	// A -v on the image's VOLUME path replaces the anonymous volume.
	host := t.TempDir()
	os.WriteFile(filepath.Join(host, "mine"), []byte("x"), 0o644)
	if out := e.must("run", "--rm", "-u", "0", "-v", host+":/data", ref, "ls /data").stdout; out != "mine\n" {
		t.Fatalf("-v on /data: ls shows %q", out)
	}
	// --rm takes its anonymous volume along.
	e.must("run", "--rm", ref, "true")
	if got := e.volumes(); !reflect.DeepEqual(got, []string{vol}) {
		t.Fatalf("volumes %v, want only %s", got, vol)
	}
	// rm keeps the volume, rm -v removes it.
	e.must("run", "--name", "v2", ref, "true")
	if got := len(e.volumes()); got != 2 {
		t.Fatalf("%d volumes after a second container, want 2", got)
	}
	vol2 := e.inspectContainer("v2").Config.Mounts[0].Source
	e.must("rm", "v1")
	e.must("rm", "-v", "v2")
	if got := e.volumes(); !reflect.DeepEqual(got, []string{vol}) {
		t.Fatalf("after rm v1 and rm -v v2: volumes %v, want [%s] (not %s)", got, vol, vol2)
	}
	e.must("volume", "rm", vol)
	if after := e.snapshotTrees(); !reflect.DeepEqual(before, after) {
		t.Fatal("running containers changed the image's snapshots")
	}
}

// TestRunImageIsolation: two containers of one image write to their own
// upper directories only; the snapshots stay as they were; rm removes a
// container's upper directory.
func TestRunImageIsolation(t *testing.T) {
	e := newRunEnv(t)
	reg := startRegistry(t, "")
	ref := reg.Host + "/plain:v1"
	pushImage(t, plainImage(t, "x"), ref)
	e.must("pull", "-q", ref)
	before := e.snapshotTrees()

	// Each writes, says so, and on SIGUSR1 looks at what it sees.
	script := func(me, other string) string {
		return fmt.Sprintf(`trap 'cat /etc/motd; test -e /mark-%[2]s && echo sees-other || echo alone; exit 0' USR1; `+
			`echo %[1]s > /etc/motd; rm /bin/ls; touch /mark-%[1]s; echo ready; while :; do sleep 0.05; done`, me, other)
	}
	e.must("run", "-d", "--name", "a", ref, "sh", "-c", script("a", "b"))
	e.must("run", "-d", "--name", "b", ref, "sh", "-c", script("b", "a"))
	e.logsUntil("a", "ready")
	e.logsUntil("b", "ready")
	for _, name := range []string{"a", "b"} {
		upper := e.inspectContainer(name).GraphDriver.Data["UpperDir"]
		if _, err := os.Stat(filepath.Join(upper, "mark-"+name)); err != nil {
			t.Fatalf("%s's write is not in its upper directory %s: %v", name, upper, err)
		}
		e.must("kill", "-s", "USR1", name)
	}
	for _, name := range []string{"a", "b"} {
		if code := strings.TrimSpace(e.must("wait", name).stdout); code != "0" {
			t.Fatalf("%s exited %s: %s", name, code, e.must("logs", name).stdout)
		}
		if out := e.logsUntil(name, "alone"); out != "ready\n"+name+"\nalone\n" {
			t.Fatalf("%s saw:\n%s", name, out)
		}
	}
	if out := e.must("run", "--rm", ref, "sh", "-c", "cat /etc/motd; ls /bin/ls").stdout; out != "/bin/ls\n" {
		t.Fatalf("a third container sees another's writes: %q", out)
	}
	if after := e.snapshotTrees(); !reflect.DeepEqual(before, after) {
		t.Fatal("containers changed the image's snapshots")
	}
	dir := filepath.Dir(e.inspectContainer("a").GraphDriver.Data["UpperDir"])
	e.must("rm", "a")
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("rm left the container's overlay directories: %v", err)
	}
}
