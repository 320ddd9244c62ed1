package runtime

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/linux/rootfs"
)

// containerResources is what create applies to the container's cgroup:
// the config's linux.resources and, for a cgroup the container owns, the
// device rules every container needs after the config's own (as runc
// does): mknod of any device, the default devices (/dev/null, zero, full,
// random, urandom, tty), the console and ptys, and the config's
// linux.devices. The cgroup layer starts device rules by denying all, so a
// config without rules still gets only these. A default the config
// explicitly denies is left out. A joined cgroup, shared with other
// processes, gets only what the config asks for. nil: nothing to apply.
func containerResources(s *specs.Spec, owned bool) *specs.LinuxResources {
	var r specs.LinuxResources
	if s.Linux.Resources != nil {
		r = *s.Linux.Resources
	}
	if !owned {
		if s.Linux.Resources == nil {
			return nil
		}
		return &r
	}
	r.Devices = append(append([]specs.LinuxDeviceCgroup(nil), r.Devices...), defaultDeviceRules(s)...)
	return &r
}

func defaultDeviceRules(s *specs.Spec) []specs.LinuxDeviceCgroup {
	wildcard := int64(-1)
	rule := func(typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
		d := specs.LinuxDeviceCgroup{Allow: true, Type: typ, Major: &major, Minor: &minor, Access: access}
		if minor == wildcard {
			d.Minor = nil
		}
		if major == wildcard {
			d.Major = nil
		}
		return d
	}
	rules := []specs.LinuxDeviceCgroup{
		rule("c", wildcard, wildcard, "m"),
		rule("b", wildcard, wildcard, "m"),
		rule("c", 5, 1, "rwm"),          // /dev/console
		rule("c", 5, 2, "rwm"),          // /dev/ptmx
		rule("c", 136, wildcard, "rwm"), // /dev/pts/*
	}
	for _, d := range append(rootfs.DefaultDevices(), s.Linux.Devices...) {
		typ := d.Type
		switch typ {
		case "u":
			typ = "c"
		case "p":
			continue // a fifo is not a device to the cgroup
		}
		rules = append(rules, rule(typ, d.Major, d.Minor, "rwm"))
	}
	var out []specs.LinuxDeviceCgroup
	for _, r := range rules {
		if !deniedByConfig(s.Linux.Resources, r) {
			out = append(out, r)
		}
	}
	return out
}

// deniedByConfig reports whether the config has a deny rule for exactly
// the device of r.
func deniedByConfig(res *specs.LinuxResources, r specs.LinuxDeviceCgroup) bool {
	if res == nil {
		return false
	}
	same := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	for _, d := range res.Devices {
		if !d.Allow && d.Type == r.Type && same(d.Major, r.Major) && same(d.Minor, r.Minor) {
			return true
		}
	}
	return false
}

// applyResources sets the container's limits on its new cgroup, all but
// the pids limit (applyPidsLimit). A rootless container whose cgroup
// refuses them runs without, with a warning, as runc does. An unprivileged
// runtime cannot load the v2 device filter (BPF needs CAP_BPF in the host)
// nor write v1 device rules, and needs neither: in its user namespace the
// container can open only the device nodes bound in from the host, with
// the host's permissions.
func applyResources(opts *CreateOptions, s *specs.Spec, cg cgroups.Manager, owned bool) error {
	r := containerResources(s, owned)
	if r == nil {
		return nil
	}
	r.Pids = nil
	if opts.Rootless && os.Geteuid() != 0 {
		r.Devices = nil
	}
	return rootlessTolerant(opts, cg.Set(r))
}

// applyPidsLimit sets the pids limit once the init exists: the init's own
// threads and the fork into a new pid namespace count against it, so a
// limit of a few pids (0 is valid) would stop the runtime itself; the
// kernel lets a limit go below the current count, which only stops new
// forks. runc, too, limits after its init has started.
func applyPidsLimit(opts *CreateOptions, s *specs.Spec, cg cgroups.Manager) error {
	r := s.Linux.Resources
	if cg == nil || r == nil || r.Pids == nil || r.Pids.Limit == nil {
		return nil
	}
	return rootlessTolerant(opts, cg.Set(&specs.LinuxResources{Pids: r.Pids}))
}

// rootlessTolerant turns a permission error of a rootless runtime into a
// warning: the container runs without the limits.
func rootlessTolerant(opts *CreateOptions, err error) error {
	if err != nil && opts.Rootless && isPermissionError(err) {
		opts.Log.Warnf("rootless: linux.resources are not applied (%v)", err)
		return nil
	}
	return err
}

// Update changes the limits of a created, running or paused container to
// those r sets (fields r leaves out keep their values), checked in full
// before anything is written; if the kernel refuses one, the cgroup is
// left as it was. The new limits are recorded in the container's config.
// Device rules cannot be changed on a running container: they are
// ignored, with a warning.
func (c *Container) Update(r *specs.LinuxResources, log Logger) error {
	if err := c.Lock(); err != nil {
		return err
	}
	defer c.Unlock()
	if c.state == nil {
		return fmt.Errorf("container %q: %w", c.id, c.stateErr)
	}
	if st := c.Status(); st == Stopped || st == Creating {
		return errdefs.NotRunning("container not running")
	}
	if c.state.CgroupPath == "" {
		return errdefs.Unsupported("container %s runs without a cgroup (rootless, the cgroup tree is not writable): its limits cannot be changed", c.id)
	}
	if len(r.Devices) > 0 {
		log.Warnf("update of %s: linux.resources.devices cannot be changed on a running container and are ignored", c.id)
		r.Devices = nil
	}
	warnings, err := cgroups.Validate(r)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		log.Warnf("%s", w)
	}
	cg, err := cgroups.Load(c.state.CgroupPath)
	if err != nil {
		return err
	}
	var merged *specs.LinuxResources
	if c.state.Config != nil && c.state.Config.Linux != nil {
		merged = mergeResources(c.state.Config.Linux.Resources, r)
		if r, err = keepSwapTotal(r, merged); err != nil {
			return err
		}
	}
	if err := cg.Update(r); err != nil {
		return err
	}
	if merged != nil {
		c.state.Config.Linux.Resources = merged
		return c.saveState()
	}
	return nil
}

// keepSwapTotal adds the configured memory+swap limit to an update that
// changes only the memory limit: cgroup v2 stores swap alone
// (memory.swap.max = swap - limit), so it must be computed again for the
// new limit; on v1 writing it again changes nothing.
func keepSwapTotal(r, merged *specs.LinuxResources) (*specs.LinuxResources, error) {
	if r.Memory == nil || r.Memory.Limit == nil || r.Memory.Swap != nil ||
		merged.Memory == nil || merged.Memory.Swap == nil || *merged.Memory.Swap == 0 {
		return r, nil
	}
	limit, swap := *r.Memory.Limit, *merged.Memory.Swap
	if swap != -1 && (limit == -1 || limit > swap) {
		return nil, errdefs.InvalidArgument("linux.resources.memory.limit: %d is above the container's memory+swap limit of %d; change that too (--memory-swap, or memory.swap)", limit, swap)
	}
	out := *r
	mem := *r.Memory
	mem.Swap = merged.Memory.Swap
	out.Memory = &mem
	return &out, nil
}

// mergeResources returns old with every field update sets replaced.
func mergeResources(old, update *specs.LinuxResources) *specs.LinuxResources {
	var out specs.LinuxResources
	if old != nil {
		out = *old
	}
	if update.Memory != nil {
		m := specs.LinuxMemory{}
		if out.Memory != nil {
			m = *out.Memory
		}
		u := update.Memory
		m.Limit, m.Reservation, m.Swap = pick(u.Limit, m.Limit), pick(u.Reservation, m.Reservation), pick(u.Swap, m.Swap)
		//lint:ignore SA1019 deprecated, but runc's update still takes it
		m.Kernel, m.KernelTCP, m.Swappiness = pick(u.Kernel, m.Kernel), pick(u.KernelTCP, m.KernelTCP), pick(u.Swappiness, m.Swappiness)
		m.DisableOOMKiller, m.UseHierarchy = pick(u.DisableOOMKiller, m.DisableOOMKiller), pick(u.UseHierarchy, m.UseHierarchy)
		m.CheckBeforeUpdate = pick(u.CheckBeforeUpdate, m.CheckBeforeUpdate)
		out.Memory = &m
	}
	if update.CPU != nil {
		c := specs.LinuxCPU{}
		if out.CPU != nil {
			c = *out.CPU
		}
		u := update.CPU
		c.Shares, c.Quota, c.Burst, c.Period = pick(u.Shares, c.Shares), pick(u.Quota, c.Quota), pick(u.Burst, c.Burst), pick(u.Period, c.Period)
		c.RealtimeRuntime, c.RealtimePeriod, c.Idle = pick(u.RealtimeRuntime, c.RealtimeRuntime), pick(u.RealtimePeriod, c.RealtimePeriod), pick(u.Idle, c.Idle)
		if u.Cpus != "" {
			c.Cpus = u.Cpus
		}
		if u.Mems != "" {
			c.Mems = u.Mems
		}
		out.CPU = &c
	}
	if update.Pids != nil {
		out.Pids = update.Pids
	}
	if update.BlockIO != nil {
		out.BlockIO = update.BlockIO
	}
	if update.HugepageLimits != nil {
		out.HugepageLimits = update.HugepageLimits
	}
	if update.Network != nil {
		out.Network = update.Network
	}
	if update.Rdma != nil {
		out.Rdma = update.Rdma
	}
	if len(update.Unified) > 0 {
		merged := maps.Clone(out.Unified)
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, update.Unified)
		out.Unified = merged
	}
	return &out
}

func pick[T any](update, old *T) *T {
	if update != nil {
		return update
	}
	return old
}

// UpdateFlags are the resource flags of `update`, as runc spells them;
// "" leaves a setting unchanged.
type UpdateFlags struct {
	BlkioWeight       string
	CPUPeriod         string
	CPUQuota          string
	CPUBurst          string
	CPUShares         string
	CPURtPeriod       string
	CPURtRuntime      string
	CpusetCpus        string
	CpusetMems        string
	KernelMemory      string
	KernelMemoryTCP   string
	Memory            string
	MemoryReservation string
	MemorySwap        string
	PidsLimit         string
}

// Resources turns the flags into the resources they set (nil: none set).
// Memory sizes take runc's suffixes (k, m, g, t, p, with an optional b or
// ib, base 1024) and -1 for unlimited.
func (f UpdateFlags) Resources() (*specs.LinuxResources, error) {
	var r specs.LinuxResources
	var errs []error
	uintFlag := func(name, v string, bits int) *uint64 {
		if v == "" {
			return nil
		}
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			errs = append(errs, errdefs.InvalidArgument("--%s %q: not a number", name, v))
			return nil
		}
		return &n
	}
	intFlag := func(name, v string) *int64 {
		if v == "" {
			return nil
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			errs = append(errs, errdefs.InvalidArgument("--%s %q: not a number", name, v))
			return nil
		}
		return &n
	}
	sizeFlag := func(name, v string) *int64 {
		if v == "" {
			return nil
		}
		n, err := ParseMemory(v)
		if err != nil {
			errs = append(errs, errdefs.InvalidArgument("--%s: %v", name, err))
			return nil
		}
		return &n
	}
	if w := uintFlag("blkio-weight", f.BlkioWeight, 16); w != nil {
		weight := uint16(*w)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &weight}
	}
	cpu := specs.LinuxCPU{
		Period: uintFlag("cpu-period", f.CPUPeriod, 64), Quota: intFlag("cpu-quota", f.CPUQuota),
		Burst: uintFlag("cpu-burst", f.CPUBurst, 64), Shares: uintFlag("cpu-share", f.CPUShares, 64),
		RealtimePeriod: uintFlag("cpu-rt-period", f.CPURtPeriod, 64), RealtimeRuntime: intFlag("cpu-rt-runtime", f.CPURtRuntime),
		Cpus: f.CpusetCpus, Mems: f.CpusetMems,
	}
	if cpu != (specs.LinuxCPU{}) {
		r.CPU = &cpu
	}
	mem := specs.LinuxMemory{
		Limit: sizeFlag("memory", f.Memory), Reservation: sizeFlag("memory-reservation", f.MemoryReservation),
		Swap: sizeFlag("memory-swap", f.MemorySwap), KernelTCP: sizeFlag("kernel-memory-tcp", f.KernelMemoryTCP),
		//lint:ignore SA1019 deprecated, but runc's update still takes --kernel-memory
		Kernel: sizeFlag("kernel-memory", f.KernelMemory),
	}
	if mem != (specs.LinuxMemory{}) {
		r.Memory = &mem
	}
	if p := intFlag("pids-limit", f.PidsLimit); p != nil {
		r.Pids = &specs.LinuxPids{Limit: p}
	}
	if len(errs) > 0 {
		return nil, errs[0]
	}
	if r.BlockIO == nil && r.CPU == nil && r.Memory == nil && r.Pids == nil {
		return nil, nil
	}
	return &r, nil
}

// ReadResources reads the linux.resources JSON of `update -r`. Unknown
// properties are ignored, as the runtime-spec has runtimes do with
// config.json (an engine may know a newer spec).
func ReadResources(in io.Reader, name string) (*specs.LinuxResources, error) {
	var r specs.LinuxResources
	if err := json.NewDecoder(in).Decode(&r); err != nil {
		return nil, errdefs.InvalidArgument("resources %s: %v", name, err)
	}
	return &r, nil
}

// ParseMemory parses a memory size as runc's update flags take it: a
// number of bytes with an optional binary suffix (k, m, g, t, p, each
// optionally followed by b or ib, any case; "1.5g"), or -1 for no limit.
func ParseMemory(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	lower := strings.ToLower(strings.TrimSpace(s))
	lower = strings.TrimSuffix(strings.TrimSuffix(lower, "b"), "i")
	shift := 0
	if n := len(lower); n > 0 {
		if i := strings.IndexByte("kmgtp", lower[n-1]); i >= 0 {
			shift = 10 * (i + 1)
			lower = lower[:n-1]
		}
	}
	v, err := strconv.ParseFloat(lower, 64)
	if err != nil || v < 0 || v*float64(int64(1)<<shift) >= 1<<63 {
		return 0, fmt.Errorf("%q is not a size (bytes, or a number with k, m, g, t or p; -1 for unlimited)", s)
	}
	return int64(v * float64(int64(1)<<shift)), nil
}
