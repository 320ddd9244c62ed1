package v2

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// setMemory writes memory.max (limit), memory.low (reservation) and
// memory.swap.max (swap, which the runtime-spec gives as memory+swap).
func (m *Manager) setMemory(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	mem := r.Memory
	if mem == nil {
		return nil
	}
	if nonzero(mem.Limit) {
		if err := w.Write(m.file("memory.max"), resources.Limit(*mem.Limit)); err != nil {
			return field("memory.limit", err)
		}
	}
	if nonzero(mem.Reservation) {
		if err := w.Write(m.file("memory.low"), resources.Limit(*mem.Reservation)); err != nil {
			return field("memory.reservation", err)
		}
	}
	if nonzero(mem.Swap) {
		return m.setSwap(*mem.Swap, w)
	}
	return nil
}

func (m *Manager) setSwap(swap int64, w *cgroupfs.Writer) error {
	swapFile := m.file("memory.swap.max")
	if !cgroupfs.FileExists(swapFile) {
		if swap == -1 {
			return nil // unlimited is what a kernel without swap accounting has
		}
		return errdefs.Unsupported("linux.resources.memory.swap: this kernel does not account swap in cgroups (no %s)", swapFile)
	}
	// The limit in force: just written, or the cgroup's.
	limit, err := cgroupfs.ReadUint(m.file("memory.max"))
	if err != nil {
		return field("memory.swap", err)
	}
	current := int64(-1)
	if limit != math.MaxUint64 {
		current = int64(limit)
	}
	value, err := resources.SwapToV2(current, swap)
	if err != nil {
		return errdefs.InvalidArgument("linux.resources.memory.swap: %v", err)
	}
	return field("memory.swap", w.Write(swapFile, value))
}

// CheckMemoryUsage implements memory.checkBeforeUpdate: a new limit at or
// below what the cgroup uses now is refused, as the v1 kernel does itself
// when it cannot reclaim.
func (m *Manager) CheckMemoryUsage(mem *specs.LinuxMemory) error {
	if mem == nil || mem.CheckBeforeUpdate == nil || !*mem.CheckBeforeUpdate || mem.Limit == nil || *mem.Limit <= 0 {
		return nil
	}
	usage, err := cgroupfs.ReadUint(m.file("memory.current"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("linux.resources.memory.checkBeforeUpdate: %w", err)
	}
	if uint64(*mem.Limit) <= usage {
		return errdefs.InvalidArgument("linux.resources.memory.limit: %d is not above the current usage of %s (%d bytes); refused because memory.checkBeforeUpdate is set",
			*mem.Limit, strconv.Quote(m.dir), usage)
	}
	return nil
}
