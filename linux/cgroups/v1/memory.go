package v1

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// setMemory writes the memory controller's files. The memory limit and
// the memory+swap limit (memory.memsw.limit_in_bytes) must keep memsw >=
// limit at every step, so they go in the order that allows it. Kernel
// memory limits are written where the kernel still has the files (recent
// kernels accept and ignore them; linux/cgroups warns).
func (m *Manager) setMemory(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	dir := m.Path("memory")
	file := func(name string) string { return filepath.Join(dir, name) }
	if err := m.setMemoryLimits(mem, w, file); err != nil {
		return err
	}
	if nonzero(mem.Reservation) {
		if err := w.Write(file("memory.soft_limit_in_bytes"), num(*mem.Reservation)); err != nil {
			return field("memory.reservation", err)
		}
	}
	for _, k := range []struct {
		field, file string
		value       *int64
	}{
		//lint:ignore SA1019 deprecated, but configs still set it: written where the kernel has the file
		{"memory.kernel", "memory.kmem.limit_in_bytes", mem.Kernel},
		{"memory.kernelTCP", "memory.kmem.tcp.limit_in_bytes", mem.KernelTCP},
	} {
		if nonzero(k.value) && cgroupfs.FileExists(file(k.file)) {
			if err := w.Write(file(k.file), num(*k.value)); err != nil {
				return field(k.field, err)
			}
		}
	}
	if mem.Swappiness != nil {
		if err := w.Write(file("memory.swappiness"), fmt.Sprint(*mem.Swappiness)); err != nil {
			return field("memory.swappiness", err)
		}
	}
	if mem.DisableOOMKiller != nil {
		if err := m.setOOMKiller(*mem.DisableOOMKiller, w, file("memory.oom_control")); err != nil {
			return err
		}
	}
	// Kernels since 5.x always account hierarchically and refuse 0
	// (linux/cgroups warns); 1 is written where the file still exists.
	if mem.UseHierarchy != nil && *mem.UseHierarchy && cgroupfs.FileExists(file("memory.use_hierarchy")) {
		if err := w.Write(file("memory.use_hierarchy"), "1"); err != nil {
			return field("memory.useHierarchy", err)
		}
	}
	return nil
}

func (m *Manager) setMemoryLimits(mem *specs.LinuxMemory, w *cgroupfs.Writer, file func(string) string) error {
	limitFile, swapFile := file("memory.limit_in_bytes"), file("memory.memsw.limit_in_bytes")
	limit, swap := nonzero(mem.Limit), nonzero(mem.Swap)
	if swap && !cgroupfs.FileExists(swapFile) {
		// No swap accounting: unlimited swap, or swap equal to the memory
		// limit (no swap at all), is what the cgroup has anyway.
		if *mem.Swap != -1 && (!limit || *mem.Swap != *mem.Limit) {
			return errdefs.Unsupported("linux.resources.memory.swap: this kernel does not account swap in cgroups (no %s; boot with swapaccount=1)", swapFile)
		}
		swap = false
	}
	switch {
	case limit && swap:
		err := writeOrdered(w, limitFile, num(*mem.Limit), swapFile, num(*mem.Swap))
		return memoryLimitError("memory.limit/swap", *mem.Limit, err)
	case limit:
		err := w.Write(limitFile, num(*mem.Limit))
		if errors.Is(err, unix.EINVAL) && cgroupfs.FileExists(swapFile) {
			return errdefs.InvalidArgument("linux.resources.memory.limit: %d is above the memory+swap limit in %s; set memory.swap too (%v)", *mem.Limit, swapFile, err)
		}
		return memoryLimitError("memory.limit", *mem.Limit, err)
	case swap:
		err := w.Write(swapFile, num(*mem.Swap))
		if errors.Is(err, unix.EINVAL) {
			return errdefs.InvalidArgument("linux.resources.memory.swap: %d is below the memory limit in %s (%v)", *mem.Swap, limitFile, err)
		}
		return field("memory.swap", err)
	}
	return nil
}

// memoryLimitError explains the kernel's EBUSY: it could not reclaim the
// cgroup's memory down to the new limit.
func memoryLimitError(name string, limit int64, err error) error {
	if errors.Is(err, unix.EBUSY) {
		return errdefs.InvalidArgument("linux.resources.%s: %d is below what the container uses and the kernel could not reclaim enough: %v", name, limit, err)
	}
	return field(name, err)
}

// setOOMKiller writes memory.oom_control, whose content ("oom_kill_disable
// 0\nunder_oom 0\n...") does not read back as it is written, so the undo
// value is taken from its first line.
func (m *Manager) setOOMKiller(disable bool, w *cgroupfs.Writer, path string) error {
	undo := "0"
	if content, err := cgroupfs.ReadFile(path); err == nil && strings.HasPrefix(content, "oom_kill_disable 1") {
		undo = "1"
	}
	return field("memory.disableOOMKiller", w.WriteUndo(path, boolValue(disable), undo))
}

func num(v int64) string { return strconv.FormatInt(v, 10) }

func boolValue(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func nonzero[T int64 | uint64 | uint16](p *T) bool { return p != nil && *p != 0 }

// checkMemoryUsage implements memory.checkBeforeUpdate (see Update).
func (m *Manager) checkMemoryUsage(mem *specs.LinuxMemory) error {
	if mem == nil || mem.CheckBeforeUpdate == nil || !*mem.CheckBeforeUpdate || mem.Limit == nil || *mem.Limit <= 0 {
		return nil
	}
	dir := m.Path("memory")
	if dir == "" {
		if m.unified != nil {
			return m.unified.CheckMemoryUsage(mem)
		}
		return nil
	}
	usage, err := cgroupfs.ReadUint(filepath.Join(dir, "memory.usage_in_bytes"))
	if err != nil {
		return fmt.Errorf("linux.resources.memory.checkBeforeUpdate: %w", err)
	}
	if uint64(*mem.Limit) <= usage {
		return errdefs.InvalidArgument("linux.resources.memory.limit: %d is not above the current usage of cgroup %s (%d bytes); refused because memory.checkBeforeUpdate is set",
			*mem.Limit, dir, usage)
	}
	return nil
}
