package security

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

// hostMountsUnder lists the host's mount points at or under dir.
func hostMountsUnder(t *testing.T, dir string) []string {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			out = append(out, f[4])
		}
	}
	return out
}

// TestSymlinkedMountDestinations plants symlinks in the image at mount
// destinations, pointing at a host directory by absolute path and by "..",
// and has the container write through them. Mounts and writes must land in
// the rootfs: the host directory gets neither (CVE-2021-30465 class).
func TestSymlinkedMountDestinations(t *testing.T) {
	b := newBundle(t)
	hostAbs, hostRel := t.TempDir(), t.TempDir()
	for _, h := range []string{hostAbs, hostRel} {
		os.WriteFile(filepath.Join(h, "canary"), []byte("host"), 0o644)
	}
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "from-bind"), []byte("bind"), 0o644)
	os.Symlink(hostAbs, filepath.Join(b.Rootfs(), "abs"))
	os.Symlink(strings.Repeat("../", 20)+strings.TrimPrefix(hostRel, "/"), filepath.Join(b.Rootfs(), "rel"))
	b.Spec.Root.Readonly = false
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/abs", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/rel", Type: "bind", Source: src, Options: []string{"bind", "ro"}},
	)
	b.Spec.Process.Args = []string{"sh", "-c", "echo pwned > /abs/pwned && cat /abs/pwned /rel/from-bind"}
	b.Save(t)
	res := run(t, testutil.NewRuntime(t), b)
	if res.Code != 0 {
		t.Fatalf("container: exit %d: %s%s", res.Code, res.Stdout, res.Stderr)
	}
	if res.Stdout != "pwned\nbind" {
		t.Errorf("the container did not see its own mounts: %q", res.Stdout)
	}
	for _, h := range []string{hostAbs, hostRel} {
		if entries, _ := os.ReadDir(h); len(entries) != 1 {
			t.Errorf("the host directory %s changed: %v", h, entries)
		}
		if m := hostMountsUnder(t, h); len(m) > 0 {
			t.Errorf("mounts appeared on the host under %s: %v", h, m)
		}
		// The mounts followed the symlinks inside the rootfs instead.
		if _, err := os.Stat(filepath.Join(b.Rootfs(), h)); err != nil {
			t.Errorf("the symlink to %s was not resolved inside the rootfs: %v", h, err)
		}
	}
}

// TestMagicLinkMountDestination plants /magic -> /proc/self/cwd: a mount
// destination through it would name a directory outside the rootfs.
// Create must refuse it.
func TestMagicLinkMountDestination(t *testing.T) {
	b := newBundle(t, "cwd")
	os.Symlink("/proc/self/cwd", filepath.Join(b.Rootfs(), "magic"))
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/magic/x", Type: "tmpfs", Source: "tmpfs"})
	b.Save(t)
	expectCreateRefused(t, testutil.NewRuntime(t), b, "/magic/x")
}

// TestNoFDLeaks lists the container process's open fds: only stdio may
// be there, nothing the runtime opened on the host. The process is ls,
// not the attack program, whose Go runtime opens fds of its own; ls's
// own directory fd on /proc/self/fd is skipped.
func TestNoFDLeaks(t *testing.T) {
	b := newBundle(t)
	b.Spec.Process.Args = []string{"ls", "-l", "/proc/self/fd"}
	b.Save(t)
	res := run(t, testutil.NewRuntime(t), b)
	if res.Code != 0 {
		t.Fatalf("ls: exit %d: %s", res.Code, res.Stderr)
	}
	own := regexp.MustCompile(`^/proc/\d+/fd$`)
	fds := 0
	for _, line := range strings.Split(res.Stdout, "\n") {
		before, target, ok := strings.Cut(line, " -> ")
		if !ok {
			continue
		}
		f := strings.Fields(before)
		n, err := strconv.Atoi(f[len(f)-1])
		if err != nil {
			t.Fatalf("cannot read %q", line)
		}
		fds++
		if n > 2 && !own.MatchString(target) {
			t.Errorf("fd %d leaked into the container: %s", n, target)
		}
	}
	if fds < 3 {
		t.Errorf("the listing is wrong (%d fds): %q", fds, res.Stdout)
	}
}

// TestCwdThroughLeakedFD is CVE-2024-21626: process.cwd set to
// /proc/self/fd/N, naming a directory the init holds open on the host. The
// container must either be refused or start inside its rootfs.
func TestCwdThroughLeakedFD(t *testing.T) {
	r := testutil.NewRuntime(t)
	for fd := 3; fd <= 12; fd++ {
		b := newBundle(t, "cwd")
		b.Spec.Process.Cwd = "/proc/self/fd/" + strconv.Itoa(fd)
		b.Save(t)
		res := run(t, r, b)
		if res.Code != 0 {
			// Refused: fine, as long as it said why in one line.
			if msg := strings.TrimSpace(res.Stderr); msg == "" || strings.Contains(msg, "\n") {
				t.Errorf("cwd fd %d: refused without a one-line error: %q", fd, res.Stderr)
			}
			continue
		}
		cwd := keyValues(res.Stdout)["cwd"]
		if !strings.HasPrefix(cwd, "/") {
			t.Errorf("cwd fd %d: the process started outside the container's root, in %q", fd, cwd)
		}
	}
}

// TestProcOvermounted mounts a directory over /proc after the procfs: the
// runtime would then mask paths in (and write to) a fake /proc
// (CVE-2019-19921 class). Create must refuse.
func TestProcOvermounted(t *testing.T) {
	b := newBundle(t, "cwd")
	fake := t.TempDir()
	os.WriteFile(filepath.Join(fake, "kcore"), []byte("fake"), 0o644)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/proc", Type: "bind", Source: fake, Options: []string{"rbind"}})
	b.Save(t)
	expectCreateRefused(t, testutil.NewRuntime(t), b, "not a proc mount")
}

// TestProcIsASymlink makes the image's /proc a symlink: the procfs would
// be mounted wherever it points, so create must refuse.
func TestProcIsASymlink(t *testing.T) {
	b := newBundle(t, "cwd")
	os.Remove(filepath.Join(b.Rootfs(), "proc"))
	os.MkdirAll(filepath.Join(b.Rootfs(), "elsewhere"), 0o755)
	os.Symlink("/elsewhere", filepath.Join(b.Rootfs(), "proc"))
	expectCreateRefused(t, testutil.NewRuntime(t), b, "proc mount at /proc")
}

// TestSysOvermounted is TestProcOvermounted for /sys.
func TestSysOvermounted(t *testing.T) {
	b := newBundle(t, "cwd")
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/sys", Type: "tmpfs", Source: "tmpfs"})
	b.Save(t)
	expectCreateRefused(t, testutil.NewRuntime(t), b, "not a sysfs mount")
}
