package spec

import (
	"os"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

// withUserNS gives s a new user namespace mapping container ids 0-65535 to
// host ids 100000-165535.
func withUserNS(s *specs.Spec) {
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
}

func TestValidateRejectsNamespaces(t *testing.T) {
	runInvalidCases(t, []invalidCase{
		{"unknown type", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
		}, "linux.namespaces[5].type", nil},
		{"duplicate", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.PIDNamespace})
		}, "linux.namespaces[5].type", nil},
		{"relative path", func(s *specs.Spec, _ string) { s.Linux.Namespaces[0].Path = "proc/1/ns/pid" }, "linux.namespaces[0].path", nil},
		{"uid map without userns", func(s *specs.Spec, _ string) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, "linux.uidMappings", nil},
		{"gid map without userns", func(s *specs.Spec, _ string) {
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{Size: 1}}
		}, "linux.gidMappings", nil},
		{"userns without uid map", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.UIDMappings = nil
		}, "linux.uidMappings", nil},
		{"userns without gid map", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.GIDMappings = nil
		}, "linux.gidMappings", nil},
		{"map size 0", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.UIDMappings[0].Size = 0
		}, "linux.uidMappings[0].size", nil},
		{"container ids overlap", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 65535, HostID: 200000, Size: 10})
		}, "linux.uidMappings[1]", nil},
		{"host ids overlap", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.GIDMappings = append(s.Linux.GIDMappings, specs.LinuxIDMapping{ContainerID: 70000, HostID: 99999, Size: 2})
		}, "linux.gidMappings[1]", nil},
		{"container ids past 32 bits", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: 1<<32 - 2, HostID: 0, Size: 2})
		}, "linux.uidMappings[1]", nil},
		{"host ids past 32 bits", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.UIDMappings[0].HostID = 1<<32 - 100
		}, "linux.uidMappings[0]", nil},
		{"too many mappings", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.UIDMappings = nil
			for i := uint32(0); i < 341; i++ {
				s.Linux.UIDMappings = append(s.Linux.UIDMappings, specs.LinuxIDMapping{ContainerID: i, HostID: 1000 + i, Size: 1})
			}
		}, "linux.uidMappings", nil},
		{"uid not mapped", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Process.User.UID = 65536
		}, "process.user.uid", nil},
		{"gid not mapped", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Linux.GIDMappings[0].ContainerID = 1
		}, "process.user.gid", nil},
		{"additional gid not mapped", func(s *specs.Spec, _ string) {
			withUserNS(s)
			s.Process.User.AdditionalGids = []uint32{5, 1 << 31}
		}, "process.user.additionalGids[1]", nil},
		{"time offsets without time ns", func(s *specs.Spec, _ string) {
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
		}, "linux.timeOffsets", nil},
		{"time offsets in joined time ns", func(s *specs.Spec, _ string) {
			setNamespacePath(s, specs.TimeNamespace, "/proc/1/ns/time")
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 10}}
		}, "linux.timeOffsets", nil},
		{"unknown clock", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {}, "realtime": {Secs: 10}}
		}, `linux.timeOffsets["realtime"]`, nil},
		{"nanoseconds overflow", func(s *specs.Spec, _ string) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{"boottime": {Nanosecs: 1e9}}
		}, `linux.timeOffsets["boottime"].nanosecs`, nil},
	})
}

func TestValidateRejectsSysctls(t *testing.T) {
	sysctl := func(key string) func(*specs.Spec, string) {
		return func(s *specs.Spec, _ string) { s.Linux.Sysctl = map[string]string{key: "1"} }
	}
	runInvalidCases(t, []invalidCase{
		{"host-wide", sysctl("vm.swappiness"), `linux.sysctl["vm.swappiness"]`, nil},
		{"kernel but not ipc", sysctl("kernel.pid_max"), `linux.sysctl["kernel.pid_max"]`, nil},
		{"percent in name", sysctl("vm.%s"), `linux.sysctl["vm.%s"]`, nil},
		{"net without netns", func(s *specs.Spec, _ string) {
			removeNamespace(s, specs.NetworkNamespace)
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		}, `linux.sysctl["net.ipv4.ip_forward"]`, nil},
		{"ipc without ipcns", func(s *specs.Spec, _ string) {
			removeNamespace(s, specs.IPCNamespace)
			s.Linux.Sysctl = map[string]string{"kernel.shmmax": "1"}
		}, `linux.sysctl["kernel.shmmax"]`, nil},
		{"mqueue without ipcns", func(s *specs.Spec, _ string) {
			removeNamespace(s, specs.IPCNamespace)
			s.Linux.Sysctl = map[string]string{"fs/mqueue/msg_max": "1"}
		}, `linux.sysctl["fs/mqueue/msg_max"]`, nil},
		{"uts without utsns", func(s *specs.Spec, _ string) {
			s.Hostname = ""
			removeNamespace(s, specs.UTSNamespace)
			s.Linux.Sysctl = map[string]string{"kernel.domainname": "x"}
		}, `linux.sysctl["kernel.domainname"]`, nil},
		{"empty component", sysctl("net..ipv4"), `linux.sysctl["net..ipv4"]`, nil},
		{"dot-dot", sysctl("net/../../etc"), `linux.sysctl["net/../../etc"]`, nil},
		{"empty name", sysctl(""), "linux.sysctl", nil},
		{"NUL in value", func(s *specs.Spec, _ string) {
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1\x00"}
		}, `linux.sysctl["net.ipv4.ip_forward"]`, nil},
	})
}

func TestValidateRejectsLinux(t *testing.T) {
	device := func(d specs.LinuxDevice) func(*specs.Spec, string) {
		return func(s *specs.Spec, _ string) { s.Linux.Devices = []specs.LinuxDevice{d} }
	}
	runInvalidCases(t, []invalidCase{
		{"device type", device(specs.LinuxDevice{Path: "/dev/x", Type: "x", Major: 1, Minor: 1}), "linux.devices[0].type", nil},
		{"device without type", device(specs.LinuxDevice{Path: "/dev/x", Major: 1, Minor: 1}), "linux.devices[0].type", nil},
		{"device relative path", device(specs.LinuxDevice{Path: "dev/x", Type: "c", Major: 1, Minor: 1}), "linux.devices[0].path", nil},
		{"device without path", device(specs.LinuxDevice{Type: "c", Major: 1, Minor: 1}), "linux.devices[0].path", nil},
		{"char device without numbers", device(specs.LinuxDevice{Path: "/dev/x", Type: "c"}), "linux.devices[0]", nil},
		{"major too big", device(specs.LinuxDevice{Path: "/dev/x", Type: "b", Major: 4096, Minor: 1}), "linux.devices[0].major", nil},
		{"negative minor", device(specs.LinuxDevice{Path: "/dev/x", Type: "u", Major: 1, Minor: -1}), "linux.devices[0].minor", nil},
		{"relative masked path", func(s *specs.Spec, _ string) { s.Linux.MaskedPaths[1] = "proc/asound" }, "linux.maskedPaths[1]", nil},
		{"relative readonly path", func(s *specs.Spec, _ string) { s.Linux.ReadonlyPaths[0] = "" }, "linux.readonlyPaths[0]", nil},
		{"masked paths without mount ns", func(s *specs.Spec, _ string) { removeNamespace(s, specs.MountNamespace) }, "linux.maskedPaths", nil},
		{"readonly paths without mount ns", func(s *specs.Spec, _ string) {
			removeNamespace(s, specs.MountNamespace)
			s.Linux.MaskedPaths = nil
		}, "linux.readonlyPaths", nil},
		{"propagation", func(s *specs.Spec, _ string) { s.Linux.RootfsPropagation = "recursive" }, "linux.rootfsPropagation", nil},
		{"personality domain", func(s *specs.Spec, _ string) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: "LINUX64"}
		}, "linux.personality.domain", nil},
		{"personality flag", func(s *specs.Spec, _ string) {
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux, Flags: []specs.LinuxPersonalityFlag{"X"}}
		}, "linux.personality.flags[0]", nil},
		{"intel rdt", func(s *specs.Spec, _ string) { s.Linux.IntelRdt = &specs.LinuxIntelRdt{ClosID: "x"} }, "linux.intelRdt", errdefs.ErrUnsupported},
		{"memory policy", func(s *specs.Spec, _ string) {
			s.Linux.MemoryPolicy = &specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0"}
		}, "linux.memoryPolicy", errdefs.ErrUnsupported},
		{"net devices", func(s *specs.Spec, _ string) {
			s.Linux.NetDevices = map[string]specs.LinuxNetDevice{"eth1": {}}
		}, "linux.netDevices", errdefs.ErrUnsupported},
	})
}

func TestValidateAcceptsLinux(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *specs.Spec)
	}{
		{"new user namespace", withUserNS},
		{"split mappings", func(s *specs.Spec) {
			withUserNS(s)
			s.Linux.UIDMappings = []specs.LinuxIDMapping{
				{ContainerID: 0, HostID: 1000, Size: 1},
				{ContainerID: 1, HostID: 100000, Size: 65535},
			}
		}},
		{"whole id range", func(s *specs.Spec) {
			withUserNS(s)
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 1<<32 - 1}}
		}},
		{"mapped process ids", func(s *specs.Spec) {
			withUserNS(s)
			s.Process.User = specs.User{UID: 65535, GID: 1000, AdditionalGids: []uint32{0, 5}}
		}},
		{"joined user namespace, unmapped ids", func(s *specs.Spec) {
			setNamespacePath(s, specs.UserNamespace, "/proc/1/ns/user")
			s.Process.User.UID = 1 << 31
		}},
		{"joined user namespace without mappings", func(s *specs.Spec) {
			setNamespacePath(s, specs.UserNamespace, "/proc/1/ns/user")
		}},
		{"namespaced sysctls", func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{
				"net.ipv4.ip_forward":               "1",
				"net/ipv4/conf/eth0.100/forwarding": "1",
				"kernel.shmmax":                     "1",
				"kernel.shm_rmid_forced":            "1",
				"fs.mqueue.msg_max":                 "10",
				"kernel.hostname":                   "x",
			}
		}},
		{"net sysctl in joined netns", func(s *specs.Spec) {
			setNamespacePath(s, specs.NetworkNamespace, "/var/run/netns/x")
			s.Linux.Sysctl = map[string]string{"net.core.somaxconn": "1024"}
		}},
		{"time offsets", func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
			s.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
				"monotonic": {Secs: -3600}, "boottime": {Secs: 86400, Nanosecs: 999999999},
			}
		}},
		{"all namespace types", func(s *specs.Spec) {
			withUserNS(s)
			s.Linux.Namespaces = append(s.Linux.Namespaces,
				specs.LinuxNamespace{Type: specs.CgroupNamespace}, specs.LinuxNamespace{Type: specs.TimeNamespace})
		}},
		{"devices", func(s *specs.Spec) {
			s.Linux.Devices = []specs.LinuxDevice{
				{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229, FileMode: ptr(os.FileMode(0o666)), UID: ptr[uint32](0)},
				{Path: "/dev/loop0", Type: "b", Major: 7},
				{Path: "/dev/fifo", Type: "p"},
				// runtime-tools gives fifos numbers; runc ignores them.
				{Path: "/dev/fifo2", Type: "p", Major: 1, Minor: 3},
			}
		}},
		{"propagation and personality", func(s *specs.Spec) {
			s.Linux.RootfsPropagation = "rslave"
			s.Linux.Personality = &specs.LinuxPersonality{Domain: specs.PerLinux32}
			s.Linux.MountLabel = "system_u:object_r:container_file_t:s0"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bundle := newBundle(t)
			s := Default()
			tc.mutate(s)
			if _, err := Validate(s, bundle); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}
