package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

// mountLine returns the /proc/self/mountinfo line of mount point dest in a
// mountinfo text (the last one: the mount on top).
func mountLine(mountinfo, dest string) []string {
	var found []string
	for _, l := range strings.Split(mountinfo, "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == dest {
			found = f
		}
	}
	return found
}

// mountOptions returns the per-mount and per-superblock options of a
// mountinfo line.
func mountOptions(fields []string) (mnt, super []string) {
	if len(fields) < 6 {
		return nil, nil
	}
	mnt = strings.Split(fields[5], ",")
	for i, f := range fields {
		if f == "-" && i+3 < len(fields) {
			super = strings.Split(fields[i+3], ",")
		}
	}
	return mnt, super
}

// hostTmpfs mounts a tmpfs at dir, which must be in the test's own
// temporary directory, and unmounts it at cleanup.
func hostTmpfs(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
}

func TestBindMountReadOnlyAndReadWrite(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	roDir, rwDir := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(roDir, "in"), []byte("from host\n"), 0o644)
	addMount(b, specs.Mount{Destination: "/ro", Type: "bind", Source: roDir, Options: []string{"rbind", "ro"}})
	addMount(b, specs.Mount{Destination: "/rw", Type: "bind", Source: rwDir, Options: []string{"bind", "rw"}})
	shell(t, b, `cat /ro/in; (echo x > /ro/new) 2>&1; echo from container > /rw/out; echo done`)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	if !strings.HasPrefix(out, "from host\n") || !strings.Contains(out, "Read-only file system") || !strings.HasSuffix(out, "done\n") {
		t.Errorf("output %q: want the host's file, a read-only error, done", out)
	}
	if exists(filepath.Join(roDir, "new")) {
		t.Error("a write through the read-only bind reached the host")
	}
	if got := readFile(t, filepath.Join(rwDir, "out")); got != "from container\n" {
		t.Errorf("host sees %q in the read-write bind, want the container's write", got)
	}
}

func TestBindMountFileAndRelativeSource(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	file := filepath.Join(t.TempDir(), "hostfile")
	os.WriteFile(file, []byte("single file\n"), 0o644)
	os.MkdirAll(filepath.Join(b.Dir, "data"), 0o755)
	os.WriteFile(filepath.Join(b.Dir, "data", "rel"), []byte("relative\n"), 0o644)
	addMount(b, specs.Mount{Destination: "/etc/bound", Type: "bind", Source: file, Options: []string{"bind", "ro"}})
	// A relative source is relative to the bundle directory.
	addMount(b, specs.Mount{Destination: "/data", Type: "bind", Source: "data", Options: []string{"rbind", "ro"}})
	shell(t, b, `cat /etc/bound /data/rel; [ -f /etc/bound ] && echo file`)
	r := testutil.NewRuntime(t)
	if out := runOutput(t, r, b); out != "single file\nrelative\nfile\n" {
		t.Errorf("output %q", out)
	}
}

func TestRecursiveAndPlainBind(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	src := t.TempDir()
	sub := filepath.Join(src, "sub")
	hostTmpfs(t, sub)
	if err := os.WriteFile(filepath.Join(sub, "marker"), []byte("submount\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := testutil.NewBundle(t)
	addMount(b, specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"bind"}})
	addMount(b, specs.Mount{Destination: "/recursive", Type: "bind", Source: src, Options: []string{"rbind"}})
	shell(t, b, `ls /plain/sub; echo --; cat /recursive/sub/marker`)
	r := testutil.NewRuntime(t)
	if out := runOutput(t, r, b); out != "--\nsubmount\n" {
		t.Errorf("output %q: want an empty /plain/sub (bind) and the submount in /recursive/sub (rbind)", out)
	}
}

func TestTmpfsOptionsAndFlags(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	addMount(b, specs.Mount{Destination: "/t", Type: "tmpfs", Source: "tmpfs",
		Options: []string{"size=1m", "mode=1770", "nosuid", "nodev", "noexec"}})
	src := t.TempDir()
	addMount(b, specs.Mount{Destination: "/b", Type: "bind", Source: src, Options: []string{"rbind", "nosuid", "nodev", "noexec", "ro"}})
	shell(t, b, `stat -c %a /t; cat /proc/self/mountinfo; printf '#!/bin/sh\necho ran\n' > /t/s && chmod +x /t/s && /t/s; echo exec=$?`)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	if !strings.HasPrefix(out, "1770\n") {
		t.Errorf("mode of the tmpfs = %q, want 1770", strings.SplitN(out, "\n", 2)[0])
	}
	mnt, super := mountOptions(mountLine(out, "/t"))
	for _, o := range []string{"nosuid", "nodev", "noexec"} {
		if !contains(mnt, o) {
			t.Errorf("/t mount options %v lack %s", mnt, o)
		}
	}
	if !contains(super, "size=1024k") || !contains(super, "mode=1770") {
		t.Errorf("/t superblock options %v, want size=1024k and mode=1770", super)
	}
	mnt, _ = mountOptions(mountLine(out, "/b"))
	for _, o := range []string{"ro", "nosuid", "nodev", "noexec"} {
		if !contains(mnt, o) {
			t.Errorf("/b bind mount options %v lack %s", mnt, o)
		}
	}
	if !strings.HasSuffix(out, "exec=126\n") {
		t.Errorf("running a program from the noexec tmpfs: %q, want it refused (exec=126)", out[strings.LastIndex(out, "exec="):])
	}
}

func TestMountDestinationSymlinkCannotEscape(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	id := newID(t)
	for _, link := range []string{"/etc", "../../../../../../../../etc"} {
		b := testutil.NewBundle(t, "ls", "/etc")
		if err := os.Symlink(link, filepath.Join(b.Rootfs(), "evil")); err != nil {
			t.Fatal(err)
		}
		name := "tincan-escape-" + id
		addMount(b, specs.Mount{Destination: "/evil/" + name, Type: "tmpfs", Source: "tmpfs"})
		addMount(b, specs.Mount{Destination: "/evil/" + name + "-bind", Type: "bind", Source: t.TempDir(), Options: []string{"rbind"}})
		b.Save(t)
		r := testutil.NewRuntime(t)
		before := testutil.TakeSnapshot(t)
		res := runFG(t, r, b, newID(t))
		noStackTrace(t, res.Stderr)
		for _, p := range []string{"/etc/" + name, "/etc/" + name + "-bind"} {
			if exists(p) {
				os.Remove(p)
				t.Errorf("symlink %s in the rootfs let a mount create %s on the host", link, p)
			}
		}
		if leaks := testutil.Leaks(before, testutil.TakeSnapshot(t), name); len(leaks) > 0 {
			t.Errorf("host mounts after the escape attempt: %v", leaks)
		}
		// The symlink is resolved inside the rootfs, as runc does: the mount
		// lands in the container's own /etc.
		if res.Code == 0 && !strings.Contains(res.Stdout, name) {
			t.Errorf("container /etc = %q, want the mount %s there", res.Stdout, name)
		}
	}
}

func TestReadonlyRoot(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	addMount(b, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev"}})
	shell(t, b, `(touch /newfile) 2>&1; echo rc=$?; echo ok > /tmp/f && cat /tmp/f`)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	if !strings.Contains(out, "Read-only file system") || !strings.Contains(out, "rc=1") || !strings.HasSuffix(out, "ok\n") {
		t.Errorf("output %q: want / read-only and /tmp writable", out)
	}
	if exists(filepath.Join(b.Rootfs(), "newfile")) {
		t.Error("a write to the read-only root reached the rootfs")
	}

	b.Spec.Root.Readonly = false
	shell(t, b, `touch /newfile && echo rc=$?`)
	if out := runOutput(t, r, b); out != "rc=0\n" || !exists(filepath.Join(b.Rootfs(), "newfile")) {
		t.Errorf("writable root: %q", out)
	}
}

func TestMaskedPaths(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	os.MkdirAll(filepath.Join(b.Rootfs(), "secret"), 0o755)
	os.WriteFile(filepath.Join(b.Rootfs(), "secret", "key"), []byte("k"), 0o644)
	os.WriteFile(filepath.Join(b.Rootfs(), "secretfile"), []byte("s"), 0o644)
	b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/secret", "/secretfile", "/does/not/exist")
	// /proc/keys is masked by the default config (and not empty unmasked:
	// the container has a session keyring); /proc/kcore too, where it exists.
	shell(t, b, `cat /proc/kcore 2>/dev/null | wc -c; cat /proc/keys | wc -c; ls -A /secret | wc -l; wc -c < /secretfile; ls -A /sys/firmware | wc -l; (touch /secret/x) 2>&1 >/dev/null | grep -c Read-only`)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	if strings.Join(strings.Fields(out), " ") != "0 0 0 0 0 1" {
		t.Errorf("masked /proc/kcore size, /proc/keys size, /secret entries, /secretfile size, /sys/firmware entries, read-only = %q, want 0 0 0 0 0 1", out)
	}
}

func TestReadonlyPaths(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t)
	// The uts hostname is namespaced: a write that got through would change
	// only the container's.
	shell(t, b, `(echo other > /proc/sys/kernel/hostname) 2>&1; hostname; cat /proc/self/mountinfo`)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	if !strings.Contains(out, "Read-only file system") || !strings.Contains(out, "\nrunc\n") {
		t.Errorf("writing /proc/sys/kernel/hostname: %q, want a read-only error and the hostname unchanged", out)
	}
	for _, p := range []string{"/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sysrq-trigger"} {
		if !exists(p) {
			continue // this kernel does not have it
		}
		mnt, _ := mountOptions(mountLine(out, p))
		if !contains(mnt, "ro") {
			t.Errorf("%s mount options %v, want ro", p, mnt)
		}
	}
}

func TestRootfsPropagation(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	// Propagation is visible only relative to a peer: make the rootfs a
	// shared mount of its own (in the test's temporary directory), so that
	// the container's root can be its slave.
	for _, tc := range []struct {
		propagation string
		want        []string // tags in the optional fields of /'s line
		notWant     []string
	}{
		{"", []string{"master:"}, []string{"shared:", "unbindable"}},
		// Non-recursive slave applies to the namespace's "/" only, not to
		// the rootfs mount below it, which stays a peer of the host's
		// until made private for pivot_root: no master (runc 1.1 shows the
		// same).
		{"slave", nil, []string{"shared:", "unbindable"}},
		{"rslave", []string{"master:"}, []string{"shared:", "unbindable"}},
		{"shared", []string{"shared:"}, []string{"unbindable"}},
		{"rshared", []string{"shared:"}, []string{"unbindable"}},
		{"private", nil, []string{"shared:", "master:", "unbindable"}},
		{"rprivate", nil, []string{"shared:", "master:", "unbindable"}},
		{"unbindable", []string{"unbindable"}, []string{"shared:", "master:"}},
	} {
		t.Run("propagation="+tc.propagation, func(t *testing.T) {
			t.Parallel()
			b := testutil.NewBundle(t, "cat", "/proc/self/mountinfo")
			sharedRootfs(t, b)
			b.Spec.Linux.RootfsPropagation = tc.propagation
			b.Save(t)
			r := testutil.NewRuntime(t)
			before := testutil.TakeSnapshot(t)
			out := runOutput(t, r, b)
			root := mountLine(out, "/")
			var tags []string
			for _, f := range root[6:] {
				if f == "-" {
					break
				}
				tags = append(tags, f)
			}
			joined := strings.Join(tags, " ")
			for _, w := range tc.want {
				if !strings.Contains(joined, w) {
					t.Errorf("/ propagation tags %q lack %q", joined, w)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(joined, w) {
					t.Errorf("/ propagation tags %q have %q", joined, w)
				}
			}
			// Whatever the propagation, the container's mounts must not
			// reach the host's (shared) rootfs.
			if leaks := testutil.Leaks(before, testutil.TakeSnapshot(t), b.Rootfs()); len(leaks) > 0 {
				t.Errorf("container mounts propagated to the host: %v", leaks)
			}
		})
	}
}

func TestSysctl(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "cat /proc/sys/kernel/shmmax /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax")
	b.Spec.Linux.Sysctl = map[string]string{
		"kernel.shmmax":       "123456789",
		"net.ipv4.ip_forward": "1",
		"kernel/msgmax":       "4242",
	}
	b.Save(t)
	hostShmmax := readFile(t, "/proc/sys/kernel/shmmax")
	hostForward := readFile(t, "/proc/sys/net/ipv4/ip_forward")
	r := testutil.NewRuntime(t)
	if out := runOutput(t, r, b); out != "123456789\n1\n4242\n" {
		t.Errorf("sysctls inside = %q, want 123456789, 1, 4242", out)
	}
	if readFile(t, "/proc/sys/kernel/shmmax") != hostShmmax || readFile(t, "/proc/sys/net/ipv4/ip_forward") != hostForward {
		t.Error("container sysctls changed the host's")
	}
}

func TestCgroupMount(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	for _, ns := range []bool{false, true} {
		name := "host cgroup namespace"
		if ns {
			name = "own cgroup namespace"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// The default config has a read-only "cgroup" mount at /sys/fs/cgroup.
			b := testutil.NewBundle(t, "sh", "-c", `ls /sys/fs/cgroup; echo --; cat /proc/self/cgroup; echo --; ls /sys/fs/cgroup/pids/; echo --; cat /proc/self/mountinfo`)
			if ns {
				b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
				b.Save(t)
			}
			r := testutil.NewRuntime(t)
			out := runOutput(t, r, b)
			parts := strings.Split(out, "--\n")
			if len(parts) != 4 {
				t.Fatalf("output %q", out)
			}
			list := strings.Fields(parts[0])
			for _, h := range []string{"memory", "pids", "cpu", "devices", "freezer"} {
				if !contains(list, h) {
					t.Errorf("/sys/fs/cgroup = %v lacks %s", list, h)
				}
			}
			if !contains(strings.Fields(parts[2]), "pids.max") || !contains(strings.Fields(parts[2]), "cgroup.procs") {
				t.Errorf("/sys/fs/cgroup/pids = %q, want the container's pids cgroup files", parts[2])
			}
			mnt, _ := mountOptions(mountLine(parts[3], "/sys/fs/cgroup/pids"))
			if !contains(mnt, "ro") {
				t.Errorf("/sys/fs/cgroup/pids options %v, want ro", mnt)
			}
			if ns && !strings.Contains(parts[1], ":pids:/\n") {
				t.Errorf("with a cgroup namespace /proc/self/cgroup = %q, want the root", parts[1])
			}
		})
	}
}

func TestNoPivot(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	// With --no-pivot the rootfs is moved onto / and chrooted into instead
	// of pivot_root. The container sees the same tree: its mountinfo lists
	// the same mount points and differs only in mount ids (the parent of /
	// is the namespace's copy of the host root, still attached, rather than
	// the namespace root); runc 1.1 shows the same, so only that is checked.
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	id := newID(t)
	pid := runDetached(t, r, b, id, "--no-pivot")
	if st := r.State(t, id); st.Status != "running" || st.Pid != pid {
		t.Errorf("--no-pivot container: status %q", st.Status)
	}
	if got, host := nsLink(t, pid, "mnt"), nsLink(t, 0, "mnt"); got == host {
		t.Errorf("--no-pivot container shares the host's mount namespace")
	}
	shell(t, b, `awk '{print $5, $6}' /proc/self/mountinfo | sort; echo; ls /`)
	pivot := runOutput(t, r, b)
	res := runFG(t, r, b, newID(t), "--no-pivot")
	if res.Code != 0 || res.Stdout != pivot {
		t.Errorf("mount points and / with --no-pivot:\n%s(exit %d %s)\nwith pivot_root:\n%s", res.Stdout, res.Code, res.Stderr, pivot)
	}
	if !strings.Contains(pivot, "/proc ") || !strings.Contains(pivot, "/dev/pts ") {
		t.Errorf("container mount points %q lack /proc and /dev/pts", pivot)
	}
}

// sharedRootfs makes the bundle's rootfs a shared mount of its own (it is
// in the test's temporary directory), undone at cleanup.
func sharedRootfs(t *testing.T, b *testutil.Bundle) {
	t.Helper()
	if err := unix.Mount(b.Rootfs(), b.Rootfs(), "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(b.Rootfs(), unix.MNT_DETACH) })
	if err := unix.Mount("", b.Rootfs(), "", unix.MS_SHARED, ""); err != nil {
		t.Fatal(err)
	}
}

func TestHostMountsPropagateIntoContainer(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	// The default root propagation is rslave: what the host mounts under a
	// shared rootfs later shows up in the container (runc: yes), while the
	// container's own mounts never reach the host.
	b := testutil.NewBundle(t, "sleep", "100")
	os.MkdirAll(filepath.Join(b.Rootfs(), "mnt", "late"), 0o755)
	sharedRootfs(t, b)
	r := testutil.NewRuntime(t)
	before := testutil.TakeSnapshot(t)
	pid := runDetached(t, r, b, newID(t))
	if leaks := testutil.Leaks(before, testutil.TakeSnapshot(t), b.Rootfs()); len(leaks) > 0 {
		t.Errorf("container mounts propagated to the host: %v", leaks)
	}
	hostTmpfs(t, filepath.Join(b.Rootfs(), "mnt", "late"))
	os.WriteFile(filepath.Join(b.Rootfs(), "mnt", "late", "marker"), nil, 0o644)
	inside := "/proc/" + strconv.Itoa(pid) + "/root/mnt/late/marker"
	deadline := time.Now().Add(time.Second)
	for !exists(inside) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !exists(inside) {
		t.Errorf("a mount the host made under the rootfs after start did not reach the container (rslave)")
	}
}
