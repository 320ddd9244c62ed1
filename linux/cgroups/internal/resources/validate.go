package resources

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

// Limits the kernel enforces, checked here so that a config fails with the
// field's name before any cgroup file is written.
const (
	// MinCPUQuota and the period bounds are the CFS bandwidth limits
	// (kernel/sched/core.c): 1 ms to 1 s.
	MinCPUQuota  = 1000
	MinCPUPeriod = 1000
	MaxCPUPeriod = 1000000
	// MinShares and MaxShares bound v1 cpu.shares; outside them the v1
	// kernel clamps silently and the v2 conversion leaves cpu.weight's
	// range.
	MinShares = 2
	MaxShares = 262144
	// MinBlkioWeight and MaxBlkioWeight bound blkio weights (v1 blkio and
	// the v2 conversion).
	MinBlkioWeight = 10
	MaxBlkioWeight = 1000
)

// Validate checks r for values no kernel accepts, so that create and update
// fail before anything is written: an InvalidArgument error names the
// field. It reads nothing from the host; what the host lacks (controllers,
// interface files) is found when the limits are applied. Zero means "not
// set" for the memory, CPU share, quota and period, and block I/O weight
// fields, as engines and runc treat them; a pids limit of 0 is a limit.
func Validate(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	checks := []func(*specs.LinuxResources) error{
		validateMemory, validateCPU, validatePids, validateBlockIO,
		validateHugepages, validateNetwork, validateRdma, validateDevices, validateUnified,
	}
	for _, check := range checks {
		if err := check(r); err != nil {
			return err
		}
	}
	return nil
}

func invalid(field, format string, args ...any) error {
	return errdefs.InvalidArgument("linux.resources.%s: %s", field, fmt.Sprintf(format, args...))
}

func validateMemory(r *specs.LinuxResources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	for _, f := range []struct {
		name  string
		value *int64
	}{
		{"limit", m.Limit}, {"reservation", m.Reservation}, {"swap", m.Swap},
		//lint:ignore SA1019 deprecated, but configs still set it: checked like the other limits
		{"kernel", m.Kernel}, {"kernelTCP", m.KernelTCP},
	} {
		if f.value != nil && *f.value < -1 {
			return invalid("memory."+f.name, "%d is not a byte count or -1 (unlimited)", *f.value)
		}
	}
	if m.Swappiness != nil && *m.Swappiness > 100 {
		return invalid("memory.swappiness", "%d is outside 0-100", *m.Swappiness)
	}
	if swap := value(m.Swap); swap > 0 {
		switch limit := value(m.Limit); {
		case limit == -1:
			return invalid("memory.swap", "%d limits memory+swap while memory.limit is unlimited (-1); set a memory limit no higher than it", swap)
		case limit > 0 && swap < limit:
			return invalid("memory.swap", "%d is below memory.limit %d: swap limits memory+swap and must be at least the memory limit", swap, limit)
		}
	}
	return nil
}

func validateCPU(r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if s := value(c.Shares); s != 0 && (s < MinShares || s > MaxShares) {
		return invalid("cpu.shares", "%d is outside %d-%d", s, MinShares, MaxShares)
	}
	quota := value(c.Quota)
	if quota < -1 || (quota > 0 && quota < MinCPUQuota) {
		return invalid("cpu.quota", "%d is below the kernel's minimum of %d microseconds (or -1 for no limit)", quota, MinCPUQuota)
	}
	if p := value(c.Period); p != 0 && (p < MinCPUPeriod || p > MaxCPUPeriod) {
		return invalid("cpu.period", "%d is outside %d-%d microseconds", p, MinCPUPeriod, MaxCPUPeriod)
	}
	if b := value(c.Burst); b != 0 && quota > 0 && b > uint64(quota) {
		return invalid("cpu.burst", "%d is above cpu.quota %d", b, quota)
	}
	if rt := value(c.RealtimeRuntime); rt < -1 {
		return invalid("cpu.realtimeRuntime", "%d is not a duration in microseconds or -1", rt)
	} else if p := value(c.RealtimePeriod); p != 0 && rt > 0 && uint64(rt) > p {
		return invalid("cpu.realtimeRuntime", "%d is above cpu.realtimePeriod %d", rt, p)
	}
	if c.Cpus != "" {
		if _, err := ParseList(c.Cpus); err != nil {
			return invalid("cpu.cpus", "%v", err)
		}
	}
	if c.Mems != "" {
		if _, err := ParseList(c.Mems); err != nil {
			return invalid("cpu.mems", "%v", err)
		}
	}
	if i := value(c.Idle); i != 0 && i != 1 {
		return invalid("cpu.idle", "%d is neither 0 nor 1", i)
	}
	return nil
}

func validatePids(r *specs.LinuxResources) error {
	if r.Pids != nil && value(r.Pids.Limit) < -1 {
		return invalid("pids.limit", "%d is not a count or -1 (unlimited)", *r.Pids.Limit)
	}
	return nil
}

func validateBlockIO(r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	if err := checkBlkioWeight("blockIO.weight", b.Weight); err != nil {
		return err
	}
	if err := checkBlkioWeight("blockIO.leafWeight", b.LeafWeight); err != nil {
		return err
	}
	for i, d := range b.WeightDevice {
		field := fmt.Sprintf("blockIO.weightDevice[%d]", i)
		if d.Weight == nil && d.LeafWeight == nil {
			return invalid(field, "needs weight or leafWeight")
		}
		if err := checkDevice(field, d.Major, d.Minor); err != nil {
			return err
		}
		if err := checkBlkioWeight(field+".weight", d.Weight); err != nil {
			return err
		}
		if err := checkBlkioWeight(field+".leafWeight", d.LeafWeight); err != nil {
			return err
		}
	}
	for _, t := range Throttles(b) {
		for i, d := range t.Devices {
			if err := checkDevice(fmt.Sprintf("blockIO.%s[%d]", t.Field, i), d.Major, d.Minor); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkBlkioWeight(field string, w *uint16) error {
	if v := value(w); v != 0 && (v < MinBlkioWeight || v > MaxBlkioWeight) {
		return invalid(field, "%d is outside %d-%d", v, MinBlkioWeight, MaxBlkioWeight)
	}
	return nil
}

func checkDevice(field string, major, minor int64) error {
	if major < 0 || minor < 0 {
		return invalid(field, "device %d:%d: major and minor must be 0 or more", major, minor)
	}
	return nil
}

func validateHugepages(r *specs.LinuxResources) error {
	for i, h := range r.HugepageLimits {
		if _, err := ParsePageSize(h.Pagesize); err != nil {
			return invalid(fmt.Sprintf("hugepageLimits[%d].pageSize", i), "%v", err)
		}
	}
	return nil
}

func validateNetwork(r *specs.LinuxResources) error {
	if r.Network == nil {
		return nil
	}
	for i, p := range r.Network.Priorities {
		if p.Name == "" || strings.ContainsAny(p.Name, " \t\n/") {
			return invalid(fmt.Sprintf("network.priorities[%d].name", i), "%q is not an interface name", p.Name)
		}
	}
	return nil
}

func validateRdma(r *specs.LinuxResources) error {
	for dev, limit := range r.Rdma {
		if dev == "" || strings.ContainsAny(dev, " \t\n=") {
			return invalid("rdma", "%q is not an RDMA device name", dev)
		}
		if limit.HcaHandles == nil && limit.HcaObjects == nil {
			return invalid("rdma."+dev, "needs hcaHandles or hcaObjects")
		}
	}
	return nil
}

func validateDevices(r *specs.LinuxResources) error {
	_, err := ParseRules(r.Devices)
	return err
}

// protectedUnified are the cgroup core files a config must not write
// through linux.resources.unified: they move, kill or freeze processes, or
// change the shape of the tree that the runtime manages.
var protectedUnified = map[string]bool{
	"cgroup.procs": true, "cgroup.threads": true, "cgroup.kill": true, "cgroup.freeze": true,
	"cgroup.subtree_control": true, "cgroup.type": true, "cgroup.controllers": true,
	"cgroup.events": true, "cgroup.stat": true,
}

func validateUnified(r *specs.LinuxResources) error {
	for key, val := range r.Unified {
		field := fmt.Sprintf("unified[%q]", key)
		controller, _, ok := strings.Cut(key, ".")
		switch {
		case key == "" || strings.ContainsAny(key, "/\x00 \n") || !ok || controller == "":
			return invalid(field, "not the name of a cgroup v2 interface file (\"<controller>.<name>\", such as \"memory.high\")")
		case protectedUnified[key]:
			return invalid(field, "%s is managed by the runtime and cannot be set", key)
		case strings.ContainsRune(val, 0):
			return invalid(field, "the value contains a NUL byte")
		}
	}
	return nil
}

// UnifiedController returns the controller a unified key belongs to
// ("memory" for "memory.high"), or "" for the cgroup core ("cgroup.*"),
// which every cgroup has.
func UnifiedController(key string) string {
	controller, _, _ := strings.Cut(key, ".")
	if controller == "cgroup" {
		return ""
	}
	return controller
}

// value dereferences an optional field; nil is the zero value.
func value[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
