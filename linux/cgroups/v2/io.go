package v2

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// setIO writes the block I/O weights and throttles. Weights go to
// io.bfq.weight as they are (BFQ takes 1-1000, like blkio) when the kernel
// has BFQ, else to io.weight converted to its 1-10000 range. Throttles go
// to io.max, a rate of 0 meaning no limit as in v1. leafWeight has no v2
// equivalent and is skipped.
func (m *Manager) setIO(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	weightFile, convert := m.file("io.weight"), func(v uint16) uint64 { return resources.BlkioToIOWeight(v) }
	if bfq := m.file("io.bfq.weight"); cgroupfs.FileExists(bfq) {
		weightFile, convert = bfq, func(v uint16) uint64 { return uint64(v) }
	}
	if nonzero(b.Weight) {
		if err := w.Write(weightFile, fmt.Sprintf("default %d", convert(*b.Weight))); err != nil {
			return field("blockIO.weight", err)
		}
	}
	for i, d := range b.WeightDevice {
		if !nonzero(d.Weight) {
			continue
		}
		key := fmt.Sprintf("%d:%d", d.Major, d.Minor)
		if err := w.WriteEntry(weightFile, key, fmt.Sprint(convert(*d.Weight)), "default"); err != nil {
			return field(fmt.Sprintf("blockIO.weightDevice[%d]", i), err)
		}
	}
	for _, t := range resources.Throttles(b) {
		for i, d := range t.Devices {
			rate := "max"
			if d.Rate != 0 {
				rate = fmt.Sprint(d.Rate)
			}
			key := fmt.Sprintf("%d:%d", d.Major, d.Minor)
			if err := w.WriteEntry(m.file("io.max"), key, t.V2Key+"="+rate, "rbps=max wbps=max riops=max wiops=max"); err != nil {
				return field(fmt.Sprintf("blockIO.%s[%d]", t.Field, i), err)
			}
		}
	}
	return nil
}
