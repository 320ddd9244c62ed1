package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/caps"
	"github.com/tincan/tincan/linux/rlimit"
	"github.com/tincan/tincan/network"
	"github.com/tincan/tincan/spec"
)

// defaultCaps is docker's default capability set.
var defaultCaps = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
	"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
	"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
}

// Paths docker masks and makes read-only in every unprivileged container.
var (
	defaultMaskedPaths = []string{
		"/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
		"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
		"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
	}
	defaultReadonlyPaths = []string{
		"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
	}
)

const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// specInputs is what buildSpec needs besides the record.
type specInputs struct {
	// rootfs is the directory the container sees as / (the overlay's
	// mount point, or --rootfs itself with --rootfs-rw).
	rootfs string
	// lookupRoot is where /etc/passwd is read for -u (the lower rootfs),
	// unless lookupLayers (an image's layer directories, top first) is set.
	lookupRoot   string
	lookupLayers []string
	// bundle holds the generated /etc files.
	bundle string
	// initBinary is the tincan binary bound in for --init.
	initBinary string
	// volumes resolves a named volume to its host directory.
	volumes func(name string) (string, error)
	// seccomp returns the profile for the final capability set.
	seccomp func(caps []string) (*specs.LinuxSeccomp, error)
	// netns is the network namespace file to join (bridge networks,
	// container:NAME); empty: a new namespace, or the host's.
	netns string
}

// buildSpec makes the OCI config for a run: docker-like defaults (default
// capabilities and seccomp profile, masked and read-only paths, /dev/shm,
// generated /etc/hosts, /etc/resolv.conf and /etc/hostname) plus what the
// run asked for.
func buildSpec(r *Record, in specInputs) (*specs.Spec, error) {
	c := &r.Config
	s := spec.Default()
	s.Root = &specs.Root{Path: in.rootfs, Readonly: c.ReadOnly}
	hostname := c.Hostname
	if hostname == "" {
		hostname = r.ShortID()
	}
	s.Hostname = hostname
	s.Annotations = map[string]string{"run.tincan.name": r.Name}
	if c.Landlock != "" {
		s.Annotations["run.tincan.landlock"] = c.Landlock
	}

	args := append(append([]string{}, c.Entrypoint...), c.Cmd...)
	if len(args) == 0 {
		return nil, errdefs.InvalidArgument("no command given: tincan run --rootfs DIR COMMAND [ARG...]")
	}
	if c.Init {
		args = append([]string{"/sbin/tincan-init", "--"}, args...)
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sbin/tincan-init", Type: "bind",
			Source: in.initBinary, Options: []string{"bind", "ro", "nosuid", "nodev"}})
	}
	var u user
	var err error
	if in.lookupLayers != nil {
		u, err = resolveUserInLayers(in.lookupLayers, c.User)
	} else {
		u, err = resolveUser(in.lookupRoot, c.User)
	}
	if err != nil {
		return nil, err
	}
	env := []string{defaultPath, "HOSTNAME=" + hostname}
	if c.Tty {
		env = append(env, "TERM=xterm")
	}
	env = mergeEnv(env, c.Env)
	if !hasEnv(env, "HOME") {
		env = append(env, "HOME="+u.home)
	}
	cwd := c.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	s.Process = &specs.Process{
		Terminal:        c.Tty,
		User:            specs.User{UID: u.uid, GID: u.gid, AdditionalGids: u.groups},
		Args:            args,
		Env:             env,
		Cwd:             cwd,
		NoNewPrivileges: c.NoNewPrivileges,
	}
	if err := setCapabilities(s.Process, c); err != nil {
		return nil, err
	}
	for _, ul := range c.Ulimits {
		name := "RLIMIT_" + strings.ToUpper(ul.Name)
		if _, err := rlimit.Parse(name); err != nil {
			return nil, errdefs.InvalidArgument("--ulimit %s: unknown limit", ul.Name)
		}
		s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: name, Soft: ul.Soft, Hard: ul.Hard})
	}
	if len(c.Ulimits) == 0 {
		// runc's default caps NOFILE at 1024; docker leaves the daemon's.
		s.Process.Rlimits = nil
	}

	if err := setMounts(s, c, in); err != nil {
		return nil, err
	}
	setNamespaces(s, c, in.netns)
	setResources(s, c)
	if c.Privileged {
		makePrivileged(s)
	} else {
		s.Linux.MaskedPaths = append([]string{}, defaultMaskedPaths...)
		s.Linux.ReadonlyPaths = append([]string{}, defaultReadonlyPaths...)
		switch c.Seccomp {
		case "unconfined":
		default:
			prof, err := in.seccomp(s.Process.Capabilities.Bounding)
			if err != nil {
				return nil, err
			}
			s.Linux.Seccomp = prof
		}
	}
	if err := setRootless(s); err != nil {
		return nil, err
	}
	return s, nil
}

// mergeEnv applies overrides (KEY=VALUE) to base, later entries winning;
// a bare KEY removes KEY.
func mergeEnv(base, overrides []string) []string {
	out := append([]string{}, base...)
	for _, kv := range overrides {
		key, _, set := strings.Cut(kv, "=")
		if !set {
			out = slices.DeleteFunc(out, func(e string) bool { k, _, _ := strings.Cut(e, "="); return k == key })
			continue
		}
		replaced := false
		for i, e := range out {
			if k, _, _ := strings.Cut(e, "="); k == key {
				out[i], replaced = kv, true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return out
}

func hasEnv(env []string, key string) bool {
	for _, e := range env {
		if k, _, _ := strings.Cut(e, "="); k == key {
			return true
		}
	}
	return false
}

// setCapabilities applies --cap-add/--cap-drop (with ALL) and
// --privileged to docker's default set.
func setCapabilities(p *specs.Process, c *RunConfig) error {
	// ALL is every capability this host lets us give: the bounding set of
	// the runtime (a host may lack some, as this one lacks CAP_SYS_RESOURCE).
	all := availableCaps()
	set := map[string]bool{}
	if c.Privileged {
		for _, n := range all {
			set[n] = true
		}
	} else {
		for _, n := range defaultCaps {
			set[n] = true
		}
	}
	norm := func(flag, n string) (string, error) {
		if strings.EqualFold(n, "ALL") {
			return "ALL", nil
		}
		capability, err := caps.Parse(n)
		if err != nil {
			return "", errdefs.InvalidArgument("%s %s: unknown capability", flag, n)
		}
		return capability.String(), nil
	}
	for _, n := range c.CapDrop {
		name, err := norm("--cap-drop", n)
		if err != nil {
			return err
		}
		if name == "ALL" {
			set = map[string]bool{}
			continue
		}
		delete(set, name)
	}
	for _, n := range c.CapAdd {
		name, err := norm("--cap-add", n)
		if err != nil {
			return err
		}
		if name == "ALL" {
			for _, k := range all {
				set[k] = true
			}
			continue
		}
		set[name] = true
	}
	list := make([]string, 0, len(set))
	for n := range set {
		list = append(list, n)
	}
	sort.Strings(list)
	p.Capabilities = &specs.LinuxCapabilities{Bounding: list, Effective: list, Permitted: list}
	if p.User.UID != 0 {
		// A non-root process keeps none in effect unless ambient; docker
		// gives non-root users no effective capabilities.
		p.Capabilities.Effective = nil
		p.Capabilities.Permitted = nil
	}
	return nil
}

// availableCaps lists the capabilities in the calling process's bounding
// set, which bounds what any container it starts can hold.
func availableCaps() []string {
	cur, err := caps.Current()
	if err != nil {
		return caps.Known()
	}
	names := make([]string, 0, len(cur.Bounding))
	for _, c := range cur.Bounding {
		names = append(names, c.String())
	}
	return names
}

// setMounts adds /etc files, volumes and tmpfs mounts to runc's defaults.
func setMounts(s *specs.Spec, c *RunConfig, in specInputs) error {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == "/dev/shm" {
			// docker's /dev/shm is 64 MiB.
			s.Mounts[i].Options = []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}
		}
	}
	for _, f := range []string{"hosts", "resolv.conf", "hostname"} {
		s.Mounts = append(s.Mounts, specs.Mount{Destination: "/etc/" + f, Type: "bind",
			Source: filepath.Join(in.bundle, f), Options: []string{"rbind", "rprivate"}})
	}
	for _, m := range c.Mounts {
		src := m.Source
		if m.Volume {
			dir, err := in.volumes(m.Source)
			if err != nil {
				return err
			}
			src = dir
		} else if _, err := os.Stat(src); err != nil {
			return errdefs.InvalidArgument("volume %s:%s: source: %v", m.Source, m.Destination, err)
		}
		opts := []string{"rbind", "rprivate"}
		if m.ReadOnly {
			opts = append(opts, "ro")
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: m.Destination, Type: "bind", Source: src, Options: opts})
	}
	dests := make([]string, 0, len(c.Tmpfs))
	for d := range c.Tmpfs {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	for _, d := range dests {
		opts := []string{"rw", "noexec", "nosuid", "nodev", "size=65536k"}
		if o := c.Tmpfs[d]; o != "" {
			opts = strings.Split(o, ",")
		}
		s.Mounts = append(s.Mounts, specs.Mount{Destination: d, Type: "tmpfs", Source: "tmpfs", Options: opts})
	}
	return nil
}

func setNamespaces(s *specs.Spec, c *RunConfig, netns string) {
	ns := []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.IPCNamespace},
		{Type: specs.UTSNamespace}, {Type: specs.MountNamespace}}
	if c.Network != NetworkHost {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netns})
	}
	s.Linux.Namespaces = ns
	if c.Network == "host" {
		// Sharing the host's network, the sysfs of the host is not ours
		// to mount read-write; runc's default mounts it read-only anyway.
		for i := range s.Mounts {
			if s.Mounts[i].Destination == "/sys" {
				s.Mounts[i] = specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys",
					Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
			}
		}
	}
}

func setResources(s *specs.Spec, c *RunConfig) {
	r := c.Resources
	if r == (Resources{}) {
		return
	}
	res := &specs.LinuxResources{}
	if r.Memory > 0 || r.MemorySwap != 0 {
		res.Memory = &specs.LinuxMemory{}
		if r.Memory > 0 {
			res.Memory.Limit = &r.Memory
		}
		if r.MemorySwap != 0 {
			swap := r.MemorySwap
			res.Memory.Swap = &swap
		}
	}
	if r.CPUs > 0 || r.CPUShares > 0 {
		res.CPU = &specs.LinuxCPU{}
		if r.CPUs > 0 {
			period := uint64(100000)
			quota := int64(r.CPUs * float64(period))
			res.CPU.Period, res.CPU.Quota = &period, &quota
		}
		if r.CPUShares > 0 {
			shares := r.CPUShares
			res.CPU.Shares = &shares
		}
	}
	if r.PidsLimit != 0 {
		limit := r.PidsLimit
		res.Pids = &specs.LinuxPids{Limit: &limit}
	}
	s.Linux.Resources = res
}

// makePrivileged lifts docker's confinement: every capability (set by
// setCapabilities), no seccomp, no masked or read-only paths, writable
// /sys and the host's devices.
func makePrivileged(s *specs.Spec) {
	s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, s.Linux.Seccomp = nil, nil, nil
	for i := range s.Mounts {
		switch s.Mounts[i].Destination {
		case "/sys":
			s.Mounts[i].Options = []string{"nosuid", "noexec", "nodev", "rw"}
		case "/dev":
			s.Mounts[i] = specs.Mount{Destination: "/dev", Type: "bind", Source: "/dev",
				Options: []string{"rbind", "nosuid"}}
		}
	}
	if s.Linux.Resources == nil {
		s.Linux.Resources = &specs.LinuxResources{}
	}
	s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
}

// writeEtcFiles writes the bundle's hosts, resolv.conf and hostname. On a
// bridge network, the monitor rewrites hosts at each start with the
// container's address and its peers; with shareFrom (container:NAME) the
// other container's hosts and resolv.conf are copied.
func writeEtcFiles(bundle, hostname string, c *RunConfig, shareFrom string) error {
	hosts := network.HostsContent(hostname, nil, c.ExtraHosts, nil)
	hostResolv, _ := os.ReadFile("/etc/resolv.conf")
	resolv := network.ResolvConf(string(hostResolv), c.DNS, c.DNSSearch, c.DNSOptions, c.Network == NetworkHost)
	if c.Network == NetworkHost {
		if data, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(data) + network.ExtraHostsLines(c.ExtraHosts)
		}
	}
	if shareFrom != "" {
		for _, f := range []struct {
			name string
			dst  *string
		}{{"hosts", &hosts}, {"resolv.conf", &resolv}} {
			if data, err := os.ReadFile(filepath.Join(shareFrom, f.name)); err == nil {
				*f.dst = string(data)
			}
		}
	}
	files := map[string]string{"hosts": hosts, "resolv.conf": resolv, "hostname": hostname + "\n"}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(bundle, name), []byte(content), 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}
