package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

func TestProcessEnv(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	for _, tc := range []struct {
		user specs.User
		env  []string
		want []string
	}{
		// HOME comes from the container's /etc/passwd when absent.
		{specs.User{}, []string{"PATH=/bin", "FOO=bar baz"}, []string{"FOO=bar baz", "HOME=/root", "PATH=/bin"}},
		{specs.User{}, []string{"PATH=/bin", "HOME=/custom"}, []string{"HOME=/custom", "PATH=/bin"}},
		{specs.User{UID: 65534, GID: 65534}, []string{"PATH=/bin"}, []string{"HOME=/nonexistent", "PATH=/bin"}},
		// A uid without an entry gets "/".
		{specs.User{UID: 4242, GID: 4242}, []string{"PATH=/bin"}, []string{"HOME=/", "PATH=/bin"}},
	} {
		b := testutil.NewBundle(t, "env")
		b.Spec.Process.Env = tc.env
		b.Spec.Process.User = tc.user
		b.Save(t)
		res := runFG(t, r, b, newID(t))
		got := strings.Split(strings.TrimSpace(res.Stdout), "\n")
		sort.Strings(got)
		if res.Code != 0 || strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("uid %d env %q: got %q (exit %d %s), want exactly %q", tc.user.UID, tc.env, got, res.Code, res.Stderr, tc.want)
		}
	}
}

func TestProcessCwd(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "pwd")
	b.Spec.Process.Cwd = "/work/deep/dir"
	b.Save(t)
	r := testutil.NewRuntime(t)
	if out := runOutput(t, r, b); out != "/work/deep/dir\n" {
		t.Errorf("pwd = %q, want the configured cwd (created when missing)", out)
	}
	if fi, err := os.Stat(filepath.Join(b.Rootfs(), "work", "deep", "dir")); err != nil || !fi.IsDir() {
		t.Errorf("missing cwd was not created in the rootfs: %v", err)
	}
	b.Spec.Process.Cwd = "/etc"
	b.Save(t)
	if out := runOutput(t, r, b); out != "/etc\n" {
		t.Errorf("pwd = %q, want /etc", out)
	}
}

func TestProcessUserAndGroups(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "id; id -u; id -g; id -G; grep -E '^(Uid|Gid|Groups):' /proc/self/status")
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20, 1000}}
	b.Save(t)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 7 {
		t.Fatalf("output %q", out)
	}
	if lines[1] != "1000" || lines[2] != "1000" {
		t.Errorf("uid %q gid %q, want 1000 1000", lines[1], lines[2])
	}
	groups := strings.Fields(lines[3])
	sort.Strings(groups)
	if strings.Join(groups, " ") != "10 1000 20" {
		t.Errorf("id -G = %q, want 1000 10 20", lines[3])
	}
	if !strings.HasPrefix(lines[0], "uid=1000(user) gid=1000(user)") {
		t.Errorf("id = %q", lines[0])
	}
	for _, l := range lines[4:] {
		f := strings.Fields(l)
		switch f[0] {
		case "Uid:", "Gid:":
			if strings.Join(f[1:], " ") != "1000 1000 1000 1000" {
				t.Errorf("%q: want real, effective, saved and fs ids 1000", l)
			}
		case "Groups:":
			if g := f[1:]; len(g) != 3 {
				t.Errorf("%q: want 10 20 1000", l)
			}
		}
	}

	// Without additionalGids the supplementary groups are cleared, not
	// inherited from the runtime.
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	shell(t, b, "grep Groups: /proc/self/status")
	if out := runOutput(t, r, b); strings.TrimSpace(strings.TrimPrefix(out, "Groups:")) != "" {
		t.Errorf("supplementary groups without additionalGids: %q, want none", out)
	}
}

func TestProcessUmask(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	for umask, want := range map[uint32]string{0o027: "0027", 0o077: "0077", 0: "0000"} {
		b := testutil.NewBundle(t, "sh", "-c", "umask; cd /tmp && touch f && stat -c %a f")
		addMount(b, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs"})
		b.Spec.Process.User.Umask = u32(umask)
		b.Save(t)
		mode := fmt.Sprintf("%o", 0o666&^umask)
		if out := runOutput(t, r, b); out != want+"\n"+mode+"\n" {
			t.Errorf("umask %#o: output %q, want %s and a new file with mode %s", umask, out, want, mode)
		}
	}
	// Unset: runc's default, 0022.
	b := testutil.NewBundle(t, "sh", "-c", "umask")
	if out := runOutput(t, r, b); out != "0022\n" {
		t.Errorf("default umask %q, want 0022", out)
	}
}

func TestProcessRlimits(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	var nofile, core unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &nofile)
	unix.Getrlimit(unix.RLIMIT_CORE, &core)
	if nofile.Max < 200 || core.Max < 4096 {
		t.Skipf("hard limits nofile %d core %d: too low to lower to the values tested", nofile.Max, core.Max)
	}
	b := testutil.NewBundle(t, "sh", "-c", "ulimit -n; ulimit -Hn; ulimit -Sc; ulimit -Hc; grep -E '^Max (open files|core file size)' /proc/self/limits")
	// Lower than the runtime's own (the host lacks CAP_SYS_RESOURCE, so no
	// limit can be raised above the hard limit tincan-oci runs with).
	b.Spec.Process.Rlimits = []specs.POSIXRlimit{
		{Type: "RLIMIT_NOFILE", Soft: 100, Hard: 200},
		{Type: "RLIMIT_CORE", Soft: 0, Hard: 4096},
	}
	b.Save(t)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 || lines[0] != "100" || lines[1] != "200" || lines[2] != "0" || lines[3] != "8" {
		t.Errorf("limits %q, want nofile 100/200 and core 0/4096 bytes (8 blocks of 512)", out)
	}
	if len(lines) == 6 && (strings.Join(strings.Fields(lines[5]), " ") != "Max open files 100 200 files" ||
		strings.Join(strings.Fields(lines[4]), " ") != "Max core file size 0 4096 bytes") {
		t.Errorf("/proc/self/limits %q", lines[4:])
	}
}

func TestProcessOOMScoreAdj(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "cat", "/proc/self/oom_score_adj")
	adj := 512
	b.Spec.Process.OOMScoreAdj = &adj
	b.Save(t)
	r := testutil.NewRuntime(t)
	if out := runOutput(t, r, b); out != "512\n" {
		t.Errorf("oom_score_adj = %q, want 512", out)
	}
	// The runtime's own score is not changed.
	if got := strings.TrimSpace(readFile(t, "/proc/self/oom_score_adj")); got == "512" {
		t.Errorf("the test process's oom_score_adj changed to %s", got)
	}
}

func TestProcessNoNewPrivileges(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	for nnp, want := range map[bool]string{true: "1", false: "0"} {
		b := testutil.NewBundle(t, "grep", "NoNewPrivs", "/proc/self/status")
		b.Spec.Process.NoNewPrivileges = nnp
		b.Save(t)
		out := runOutput(t, r, b)
		if got := statusField(out, "NoNewPrivs"); got != want {
			t.Errorf("noNewPrivileges %v: NoNewPrivs %q, want %s", nnp, got, want)
		}
	}
}

// capNumbers are the capabilities used below.
var capNumbers = map[string]uint{
	"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_FOWNER": 3, "CAP_KILL": 5, "CAP_SETGID": 6, "CAP_SETUID": 7,
	"CAP_NET_BIND_SERVICE": 10, "CAP_NET_RAW": 13, "CAP_SYS_CHROOT": 18, "CAP_AUDIT_WRITE": 29,
}

func capMask(names ...string) string {
	var m uint64
	for _, n := range names {
		m |= 1 << capNumbers[n]
	}
	return fmt.Sprintf("%016x", m)
}

func TestProcessCapabilities(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	script := `grep ^Cap /proc/self/status; (touch /tmp/f && chown 1234 /tmp/f) 2>&1; echo chown=$?`
	for _, tc := range []struct {
		name                    string
		user                    specs.User
		caps                    specs.LinuxCapabilities
		bnd, prm, eff, inh, amb []string
		chownOK                 bool
	}{
		{
			// Root: execve makes the permitted and effective sets the
			// bounding set (legacy root semantics, no securebits; runc
			// does the same), and clears the ambient set.
			name: "root with CAP_CHOWN",
			caps: specs.LinuxCapabilities{
				Bounding:  []string{"CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"},
				Permitted: []string{"CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"},
				Effective: []string{"CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"},
			},
			bnd:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"},
			prm:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"},
			eff:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_AUDIT_WRITE"},
			chownOK: true,
		},
		{
			// Root without CAP_CHOWN in the bounding set cannot chown.
			name: "root without CAP_CHOWN",
			caps: specs.LinuxCapabilities{
				Bounding:  []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Permitted: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Effective: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			},
			bnd: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			prm: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
			eff: []string{"CAP_KILL", "CAP_NET_BIND_SERVICE"},
		},
		{
			// A non-root user keeps across execve only its ambient set
			// (which needs the same capabilities inheritable and permitted).
			name: "uid 1000 with ambient capabilities",
			user: specs.User{UID: 1000, GID: 1000},
			caps: specs.LinuxCapabilities{
				Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
				Permitted:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Effective:   []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Inheritable: []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
				Ambient:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			},
			bnd:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"},
			prm:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			eff:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			inh:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			amb:     []string{"CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"},
			chownOK: true,
		},
		{
			name: "uid 1000 without ambient capabilities",
			user: specs.User{UID: 1000, GID: 1000},
			caps: specs.LinuxCapabilities{
				Bounding:  []string{"CAP_CHOWN", "CAP_KILL"},
				Permitted: []string{"CAP_CHOWN", "CAP_KILL"},
				Effective: []string{"CAP_CHOWN", "CAP_KILL"},
			},
			bnd: []string{"CAP_CHOWN", "CAP_KILL"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testutil.NewBundle(t, "sh", "-c", script)
			addMount(b, specs.Mount{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=1777"}})
			b.Spec.Process.User = tc.user
			b.Spec.Process.Capabilities = &tc.caps
			b.Save(t)
			out := runOutput(t, r, b)
			for field, want := range map[string][]string{"CapBnd": tc.bnd, "CapPrm": tc.prm, "CapEff": tc.eff, "CapInh": tc.inh, "CapAmb": tc.amb} {
				if got := statusField(out, field); got != capMask(want...) {
					t.Errorf("%s = %s, want %s %v", field, got, capMask(want...), want)
				}
			}
			if ok := strings.Contains(out, "chown=0"); ok != tc.chownOK {
				t.Errorf("chown as %d: %q, want success %v", tc.user.UID, out[strings.Index(out, "CapAmb"):], tc.chownOK)
			}
		})
	}
}

func TestPreserveFDs(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("from fd 3\n"), 0o644)
	f3, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f3.Close()
	f4 := createFile(t, filepath.Join(dir, "out"))
	f5, _ := os.Open(in) // not preserved
	defer f5.Close()

	b := testutil.NewBundle(t, "sh", "-c", `cat <&3; echo to fd 4 >&4; cat /proc/self/fd/3 >/dev/null && echo proc-ok; [ -e /proc/self/fd/5 ] && echo fd5 leaked; exit 0`)
	r := testutil.NewRuntime(t)
	cmd := r.Cmd("run", "--preserve-fds", "2", "--bundle", b.Dir, newID(t))
	cmd.ExtraFiles = []*os.File{f3, f4, f5}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run --preserve-fds 2: %v: %s", err, stderr.String())
	}
	if stdout.String() != "from fd 3\nproc-ok\n" {
		t.Errorf("container output %q, want fd 3's content, /proc/self/fd/3 readable, no fd 5", stdout.String())
	}
	if got := readFile(t, f4.Name()); got != "to fd 4\n" {
		t.Errorf("fd 4 received %q", got)
	}
}

func TestListenFDs(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	os.WriteFile(in, []byte("socket stand-in\n"), 0o644)
	f3, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f3.Close()
	b := testutil.NewBundle(t, "sh", "-c", `echo $LISTEN_FDS $LISTEN_PID; cat <&3; [ -e /proc/self/fd/4 ] && echo fd4 leaked; exit 0`)
	r := testutil.NewRuntime(t)
	// LISTEN_PID must be tincan-oci's own pid, known only once it runs:
	// the shell sets it to its own and then becomes tincan-oci.
	cmd := exec.Command("/bin/sh", "-c", `LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"`,
		r.Bin, "--root", r.Root, "run", "--bundle", b.Dir, newID(t))
	f4, _ := os.Open(in) // not announced by LISTEN_FDS: not passed
	defer f4.Close()
	cmd.ExtraFiles = []*os.File{f3, f4}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run with LISTEN_FDS=1: %v: %s", err, stderr.String())
	}
	// In its own pid namespace the container process is pid 1.
	if stdout.String() != "1 1\nsocket stand-in\n" {
		t.Errorf("container output %q, want LISTEN_FDS=1 LISTEN_PID=1 and fd 3 readable", stdout.String())
	}

	// A LISTEN_PID meant for another process passes nothing.
	cmd = exec.Command(r.Bin, "--root", r.Root, "run", "--bundle", b.Dir, newID(t))
	cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "LISTEN_PID="+strconv.Itoa(os.Getpid()))
	cmd.ExtraFiles = []*os.File{f3}
	stdout.Reset()
	cmd.Stdout = &stdout
	cmd.Run()
	if strings.Contains(stdout.String(), "stand-in") || strings.HasPrefix(stdout.String(), "1") {
		t.Errorf("LISTEN_PID of another process still passed fds: %q", stdout.String())
	}
}
