package integration

import (
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

// nsKinds are the namespace types tested here (user has its own file), with
// their /proc/<pid>/ns name and unshare(1) flag.
var nsKinds = []struct {
	typ    specs.LinuxNamespaceType
	proc   string
	option string
}{
	{specs.PIDNamespace, "pid", "--pid"},
	{specs.NetworkNamespace, "net", "--net"},
	{specs.IPCNamespace, "ipc", "--ipc"},
	{specs.UTSNamespace, "uts", "--uts"},
	{specs.MountNamespace, "mnt", "--mount"},
	{specs.CgroupNamespace, "cgroup", "--cgroup"},
	{specs.TimeNamespace, "time", "--time"},
}

// setNamespace sets the bundle's namespace of typ: new (path ""), joined
// (a path) or, with remove, none at all; the bundle is saved. Settings that
// need the namespace go with it.
func setNamespace(t *testing.T, b *testutil.Bundle, typ specs.LinuxNamespaceType, path string, remove bool) {
	t.Helper()
	b.Spec.Linux.Namespaces = without(b.Spec.Linux.Namespaces, typ)
	if !remove {
		b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: typ, Path: path})
	}
	if remove {
		switch typ {
		case specs.UTSNamespace:
			b.Spec.Hostname = ""
		case specs.MountNamespace:
			// Without a mount namespace nothing may be mounted: the
			// process only gets the rootfs as its root (chroot), as in runc.
			b.Spec.Mounts = nil
			b.Spec.Linux.MaskedPaths = nil
			b.Spec.Linux.ReadonlyPaths = nil
			b.Spec.Root.Readonly = false
		}
	}
	b.Save(t)
}

func TestNamespaces(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	for _, k := range nsKinds {
		t.Run(string(k.typ), func(t *testing.T) {
			t.Parallel()
			r := testutil.NewRuntime(t)
			host := nsLink(t, 0, k.proc)

			t.Run("new", func(t *testing.T) {
				b := testutil.NewBundle(t, "sleep", "100")
				setNamespace(t, b, k.typ, "", false)
				pid := runDetached(t, r, b, newID(t))
				if got := nsLink(t, pid, k.proc); got == host {
					t.Errorf("a new %s namespace is the host's: %s", k.typ, got)
				}
			})

			t.Run("joined", func(t *testing.T) {
				holder := nsHolder(t, k.option)
				want := nsLink(t, holder, k.proc)
				if want == host {
					t.Fatalf("the holder's %s namespace is the host's", k.typ)
				}
				b := testutil.NewBundle(t, "sleep", "100")
				setNamespace(t, b, k.typ, "/proc/"+strconv.Itoa(holder)+"/ns/"+k.proc, false)
				pid := runDetached(t, r, b, newID(t))
				if got := nsLink(t, pid, k.proc); got != want {
					t.Errorf("joined %s namespace is %s, want the holder's %s", k.typ, got, want)
				}
			})

			t.Run("inherited", func(t *testing.T) {
				b := testutil.NewBundle(t, "sleep", "100")
				setNamespace(t, b, k.typ, "", true)
				pid := runDetached(t, r, b, newID(t))
				if got := nsLink(t, pid, k.proc); got != host {
					t.Errorf("without a %s namespace in the config the container has %s, want the host's %s", k.typ, got, host)
				}
			})
		})
	}
}

func TestJoinNamespaceErrors(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	runFailCases(t, []failCase{
		{name: "missing path", edit: editSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(without(s.Linux.Namespaces, specs.NetworkNamespace),
				specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/0/ns/net"})
		}), want: []string{"/proc/0/ns/net"}},
		{name: "wrong type", edit: editSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(without(s.Linux.Namespaces, specs.NetworkNamespace),
				specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: "/proc/self/ns/ipc"})
		}), want: []string{"/proc/self/ns/ipc"}},
	})
}

func TestHostnameAndDomainname(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "hostname; cat /proc/sys/kernel/domainname")
	b.Spec.Hostname = "box.one"
	b.Spec.Domainname = "example.org"
	b.Save(t)
	r := testutil.NewRuntime(t)
	if out := runOutput(t, r, b); out != "box.one\nexample.org\n" {
		t.Errorf("hostname and domainname = %q, want box.one and example.org", out)
	}
}

func TestTimeNamespaceOffsets(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "cat /proc/self/timens_offsets; cat /proc/uptime")
	setNamespace(t, b, specs.TimeNamespace, "", false)
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"monotonic": {Secs: 1000000},
		"boottime":  {Secs: 2000000, Nanosecs: 5},
	}
	b.Save(t)
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("output %q", out)
	}
	offsets := map[string]string{}
	for _, l := range lines[:2] {
		f := strings.Fields(l)
		offsets[f[0]] = strings.Join(f[1:], " ")
	}
	if offsets["monotonic"] != "1000000 0" || offsets["boottime"] != "2000000 5" {
		t.Errorf("timens_offsets = %q, want monotonic 1000000 0 and boottime 2000000 5", lines[:2])
	}
	// /proc/uptime counts CLOCK_BOOTTIME, which has the boottime offset.
	up, err := strconv.ParseFloat(strings.Fields(lines[2])[0], 64)
	if err != nil || up < 2000000 {
		t.Errorf("uptime inside = %q, want at least the 2000000 s offset", lines[2])
	}
}

func TestNetworkNamespaceHasLoopbackUp(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags; ip link show lo")
	r := testutil.NewRuntime(t)
	out := runOutput(t, r, b)
	lines := strings.Split(out, "\n")
	if len(lines) < 3 || lines[0] != "lo" {
		t.Fatalf("interfaces in a new network namespace: %q, want only lo", out)
	}
	flags, err := strconv.ParseUint(strings.TrimPrefix(lines[1], "0x"), 16, 32)
	if err != nil || flags&1 == 0 {
		t.Errorf("lo flags %q: not IFF_UP", lines[1])
	}
	if !strings.Contains(out, "LOOPBACK,UP") {
		t.Errorf("ip link show lo: %q, want LOOPBACK,UP", out)
	}
}
