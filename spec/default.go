package spec

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// defaultCaps are the capabilities of the default process: the same three
// that `runc spec` grants, enough for a shell and little more.
func defaultCaps() []string {
	return []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
}

// Default returns the configuration that `tincan-oci spec` writes. It has the
// content of `runc spec` (runc 1.1) field by field, so that tools and
// tutorials written against runc keep working, except that ociVersion is the
// runtime-spec version tincan is built against. The hostname stays "runc"
// for the same reason.
func Default() *specs.Spec {
	return &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal: true,
			User:     specs.User{UID: 0, GID: 0},
			Args:     []string{"sh"},
			Env: []string{
				"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
				"TERM=xterm",
			},
			Cwd: "/",
			Capabilities: &specs.LinuxCapabilities{
				Bounding:  defaultCaps(),
				Effective: defaultCaps(),
				Permitted: defaultCaps(),
				Ambient:   defaultCaps(),
			},
			Rlimits: []specs.POSIXRlimit{
				{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024},
			},
			NoNewPrivileges: true,
		},
		Root: &specs.Root{
			Path:     "rootfs",
			Readonly: true,
		},
		Hostname: "runc",
		Mounts: []specs.Mount{
			{
				Destination: "/proc",
				Type:        "proc",
				Source:      "proc",
			},
			{
				Destination: "/dev",
				Type:        "tmpfs",
				Source:      "tmpfs",
				Options:     []string{"nosuid", "strictatime", "mode=755", "size=65536k"},
			},
			{
				Destination: "/dev/pts",
				Type:        "devpts",
				Source:      "devpts",
				Options:     []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"},
			},
			{
				Destination: "/dev/shm",
				Type:        "tmpfs",
				Source:      "shm",
				Options:     []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"},
			},
			{
				Destination: "/dev/mqueue",
				Type:        "mqueue",
				Source:      "mqueue",
				Options:     []string{"nosuid", "noexec", "nodev"},
			},
			{
				Destination: "/sys",
				Type:        "sysfs",
				Source:      "sysfs",
				Options:     []string{"nosuid", "noexec", "nodev", "ro"},
			},
			{
				Destination: "/sys/fs/cgroup",
				Type:        "cgroup",
				Source:      "cgroup",
				Options:     []string{"nosuid", "noexec", "nodev", "relatime", "ro"},
			},
		},
		Linux: &specs.Linux{
			Resources: &specs.LinuxResources{
				// Deny every device; the default device nodes are allowed by
				// the runtime itself, as the runtime-spec requires.
				Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
			},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace},
				{Type: specs.NetworkNamespace},
				{Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace},
				{Type: specs.MountNamespace},
			},
			MaskedPaths: []string{
				"/proc/acpi",
				"/proc/asound",
				"/proc/kcore",
				"/proc/keys",
				"/proc/latency_stats",
				"/proc/timer_list",
				"/proc/timer_stats",
				"/proc/sched_debug",
				"/sys/firmware",
				"/proc/scsi",
			},
			ReadonlyPaths: []string{
				"/proc/bus",
				"/proc/fs",
				"/proc/irq",
				"/proc/sys",
				"/proc/sysrq-trigger",
			},
		},
	}
}

// Rootless changes s the way `runc spec --rootless` changes the default
// configuration, for an unprivileged user whose host ids are uid and gid
// (normally os.Geteuid() and os.Getegid()):
//   - a new user namespace maps container root to uid and gid, one id each,
//     because an unprivileged user can map only its own ids;
//   - no network namespace, because an unprivileged user cannot configure
//     one (network setup is left to tools such as pasta or slirp4netns);
//   - /sys becomes a read-only recursive bind of the host's /sys, because
//     sysfs cannot be mounted without owning a network namespace;
//   - uid= and gid= mount options go, because those ids are not mapped;
//   - linux.resources goes, because cgroup limits need privileges or
//     delegation that the default configuration cannot assume.
//
// Like runc, it keeps the /sys/fs/cgroup mount.
func Rootless(s *specs.Spec, uid, gid int) {
	if s.Linux == nil {
		s.Linux = &specs.Linux{}
	}
	var namespaces []specs.LinuxNamespace
	for _, ns := range s.Linux.Namespaces {
		if ns.Type != specs.NetworkNamespace && ns.Type != specs.UserNamespace {
			namespaces = append(namespaces, ns)
		}
	}
	s.Linux.Namespaces = append(namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(uid), Size: 1}}
	s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(gid), Size: 1}}

	for i, m := range s.Mounts {
		if cleanDestination(m.Destination) == "/sys" {
			s.Mounts[i] = specs.Mount{
				Destination: "/sys",
				Type:        "none",
				Source:      "/sys",
				Options:     []string{"rbind", "nosuid", "noexec", "nodev", "ro"},
			}
			continue
		}
		s.Mounts[i].Options = withoutIDOptions(m.Options)
	}
	s.Linux.Resources = nil
}

// withoutIDOptions returns options without uid= and gid= entries.
func withoutIDOptions(options []string) []string {
	var kept []string
	for _, o := range options {
		if !strings.HasPrefix(o, "uid=") && !strings.HasPrefix(o, "gid=") {
			kept = append(kept, o)
		}
	}
	return kept
}
