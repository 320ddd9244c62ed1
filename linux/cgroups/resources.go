package cgroups

import (
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// Stats is a cgroup's resource usage; its JSON is the "data" of runc's
// `events --stats`.
type Stats = cgroupfs.Stats

// Validate checks linux.resources before anything is created: values no
// kernel accepts, and settings this host's layout cannot apply, are an
// error naming the field (InvalidArgument, or Unsupported for what the
// host lacks). Settings the host ignores come back as warnings: on cgroup
// v2 those without a v2 equivalent (swappiness, disableOOMKiller, kernel
// memory, leafWeight), on v1 kernel memory limits that recent kernels
// accept and ignore, and the CFQ-only leafWeight on kernels without CFQ.
// What depends on the cgroup itself (controllers a cgroup2 parent does not
// delegate, hugepage sizes, unified files) is checked by Set, still before
// it writes anything.
func Validate(r *specs.LinuxResources) (warnings []string, err error) {
	if r == nil {
		return nil, nil
	}
	if err := resources.Validate(r); err != nil {
		return nil, err
	}
	l := hostLayout()
	switch l.mode {
	case Unified:
		return unifiedWarnings(r)
	case Legacy:
		if len(r.Unified) > 0 {
			return nil, errdefs.Unsupported("linux.resources.unified: this host has no cgroup v2 hierarchy")
		}
	}
	return legacyWarnings(r, l), nil
}

// unifiedWarnings lists the settings a pure cgroup v2 host cannot apply:
// errors for limits (realtime CPU, net_cls/net_prio), warnings for what
// only tunes.
func unifiedWarnings(r *specs.LinuxResources) ([]string, error) {
	if c := r.CPU; c != nil && (nonzero(c.RealtimeRuntime) || nonzero(c.RealtimePeriod)) {
		return nil, errdefs.Unsupported("linux.resources.cpu.realtimeRuntime/realtimePeriod: cgroup v2 has no realtime CPU bandwidth control")
	}
	if n := r.Network; n != nil && (n.ClassID != nil || len(n.Priorities) > 0) {
		return nil, errdefs.Unsupported("linux.resources.network: net_cls and net_prio are cgroup v1 controllers; cgroup v2 has no equivalent")
	}
	var warnings []string
	ignored := func(field string) {
		warnings = append(warnings, "linux.resources."+field+" is ignored: cgroup v2 has no equivalent")
	}
	if m := r.Memory; m != nil {
		if m.Swappiness != nil {
			ignored("memory.swappiness")
		}
		if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
			ignored("memory.disableOOMKiller")
		}
		//lint:ignore SA1019 deprecated, but configs still set it: warned about
		if nonzero(m.Kernel) {
			ignored("memory.kernel")
		}
		if nonzero(m.KernelTCP) {
			ignored("memory.kernelTCP (socket memory counts against memory.limit)")
		}
	}
	if b := r.BlockIO; b != nil && hasLeafWeight(b) {
		ignored("blockIO.leafWeight")
	}
	return warnings, nil
}

// legacyWarnings lists the v1 settings this kernel takes without effect.
func legacyWarnings(r *specs.LinuxResources, l layout) []string {
	var warnings []string
	mountOf := func(controller string) string {
		for _, h := range l.hierarchies {
			for _, c := range h.Controllers {
				if c == controller {
					return h.MountPoint
				}
			}
		}
		return ""
	}
	if m := r.Memory; m != nil {
		//lint:ignore SA1019 deprecated, but configs still set it: warned about
		kernel := nonzero(m.Kernel)
		if (kernel || nonzero(m.KernelTCP)) && mountOf("memory") != "" {
			if !cgroupfs.FileExists(filepath.Join(mountOf("memory"), "memory.kmem.limit_in_bytes")) {
				warnings = append(warnings, "linux.resources.memory.kernel is ignored: this kernel has no kernel memory limits")
			} else if kernel && cgroupfs.KernelAtLeast(6, 1) {
				warnings = append(warnings, "linux.resources.memory.kernel has no effect: Linux 6.1 and later accept kernel memory limits and ignore them")
			}
		}
		if m.UseHierarchy != nil && !*m.UseHierarchy {
			warnings = append(warnings, "linux.resources.memory.useHierarchy=false is ignored: the kernel always accounts memory hierarchically")
		}
	}
	if b := r.BlockIO; b != nil && hasLeafWeight(b) {
		if root := mountOf("blkio"); root != "" && !cgroupfs.FileExists(filepath.Join(root, "blkio.leaf_weight")) {
			warnings = append(warnings, "linux.resources.blockIO.leafWeight is ignored: it needs the CFQ I/O scheduler, which this kernel does not have")
		}
	}
	return warnings
}

func hasLeafWeight(b *specs.LinuxBlockIO) bool {
	if nonzero(b.LeafWeight) {
		return true
	}
	for _, d := range b.WeightDevice {
		if nonzero(d.LeafWeight) {
			return true
		}
	}
	return false
}

func nonzero[T int64 | uint64 | uint16](p *T) bool { return p != nil && *p != 0 }
