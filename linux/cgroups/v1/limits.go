package v1

import (
	"fmt"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// setBlkio writes block I/O weights and throttles. Weights go to the CFQ
// files (blkio.weight) where the kernel has them, else to BFQ's
// (blkio.bfq.weight); leafWeight exists only with CFQ (gone since Linux
// 5.0) and is skipped without it. A throttle rate of 0 removes the limit.
func (m *Manager) setBlkio(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	b := r.BlockIO
	if b == nil || m.Path("blkio") == "" {
		return nil
	}
	dir := m.Path("blkio")
	file := func(name string) string { return filepath.Join(dir, name) }
	weight, weightDevice := file("blkio.weight"), file("blkio.weight_device")
	if !cgroupfs.FileExists(weight) {
		weight, weightDevice = file("blkio.bfq.weight"), file("blkio.bfq.weight_device")
	}
	if nonzero(b.Weight) {
		if err := w.Write(weight, fmt.Sprint(*b.Weight)); err != nil {
			return field("blockIO.weight", err)
		}
	}
	leaf := file("blkio.leaf_weight")
	if nonzero(b.LeafWeight) && cgroupfs.FileExists(leaf) {
		if err := w.Write(leaf, fmt.Sprint(*b.LeafWeight)); err != nil {
			return field("blockIO.leafWeight", err)
		}
	}
	for i, d := range b.WeightDevice {
		key := fmt.Sprintf("%d:%d", d.Major, d.Minor)
		name := fmt.Sprintf("blockIO.weightDevice[%d]", i)
		if nonzero(d.Weight) {
			if err := w.WriteEntry(weightDevice, key, fmt.Sprint(*d.Weight), "0"); err != nil {
				return field(name, err)
			}
		}
		if nonzero(d.LeafWeight) && cgroupfs.FileExists(file("blkio.leaf_weight_device")) {
			if err := w.WriteEntry(file("blkio.leaf_weight_device"), key, fmt.Sprint(*d.LeafWeight), "0"); err != nil {
				return field(name, err)
			}
		}
	}
	for _, t := range resources.Throttles(b) {
		for i, d := range t.Devices {
			key := fmt.Sprintf("%d:%d", d.Major, d.Minor)
			if err := w.WriteEntry(file(t.V1File), key, fmt.Sprint(d.Rate), "0"); err != nil {
				return field(fmt.Sprintf("blockIO.%s[%d]", t.Field, i), err)
			}
		}
	}
	return nil
}

func (m *Manager) setPids(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	if r.Pids == nil || r.Pids.Limit == nil || m.Path("pids") == "" {
		return nil
	}
	return field("pids.limit", w.Write(filepath.Join(m.Path("pids"), "pids.max"), resources.Limit(*r.Pids.Limit)))
}

// setHugetlb writes the hugepage limits, and the reservation limits where
// the kernel has them (the runtime-spec prefers those).
func (m *Manager) setHugetlb(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	if len(r.HugepageLimits) == 0 || m.Path("hugetlb") == "" {
		return nil
	}
	dir := m.Path("hugetlb")
	for i, h := range r.HugepageLimits {
		name := fmt.Sprintf("hugepageLimits[%d]", i)
		limitFile := filepath.Join(dir, "hugetlb."+h.Pagesize+".limit_in_bytes")
		if !cgroupfs.FileExists(limitFile) {
			return errdefs.InvalidArgument("linux.resources.%s.pageSize: %s is not a hugepage size of this kernel (it has %v)", name, h.Pagesize, resources.PageSizes())
		}
		if err := w.Write(limitFile, fmt.Sprint(h.Limit)); err != nil {
			return field(name, err)
		}
		if rsvd := filepath.Join(dir, "hugetlb."+h.Pagesize+".rsvd.limit_in_bytes"); cgroupfs.FileExists(rsvd) {
			if err := w.Write(rsvd, fmt.Sprint(h.Limit)); err != nil {
				return field(name, err)
			}
		}
	}
	return nil
}

// setNetwork writes net_cls.classid and net_prio.ifpriomap.
func (m *Manager) setNetwork(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	n := r.Network
	if n == nil {
		return nil
	}
	if n.ClassID != nil {
		if err := w.Write(filepath.Join(m.Path("net_cls"), "net_cls.classid"), fmt.Sprint(*n.ClassID)); err != nil {
			return field("network.classID", err)
		}
	}
	for i, p := range n.Priorities {
		if err := w.WriteEntry(filepath.Join(m.Path("net_prio"), "net_prio.ifpriomap"), p.Name, fmt.Sprint(p.Priority), "0"); err != nil {
			return field(fmt.Sprintf("network.priorities[%d]", i), err)
		}
	}
	return nil
}

func (m *Manager) setRdma(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	if len(r.Rdma) == 0 || m.Path("rdma") == "" {
		return nil
	}
	for dev, limit := range r.Rdma {
		value := ""
		if limit.HcaHandles != nil {
			value = fmt.Sprintf("hca_handle=%d", *limit.HcaHandles)
		}
		if limit.HcaObjects != nil {
			value += fmt.Sprintf(" hca_object=%d", *limit.HcaObjects)
		}
		if err := w.WriteEntry(filepath.Join(m.Path("rdma"), "rdma.max"), dev, value, "hca_handle=max hca_object=max"); err != nil {
			return field("rdma."+dev, err)
		}
	}
	return nil
}

// setDevices writes the device rules in order after denying everything,
// so that the container gets exactly the devices the rules allow: an
// allow rule to devices.allow, a deny rule to devices.deny ('a' rules as
// "a", which resets the list).
func (m *Manager) setDevices(r *specs.LinuxResources, w *cgroupfs.Writer) error {
	if len(r.Devices) == 0 || m.Path("devices") == "" {
		return nil
	}
	rules, err := resources.ParseRules(r.Devices)
	if err != nil {
		return err
	}
	dir := m.Path("devices")
	if err := w.Write(filepath.Join(dir, "devices.deny"), "a"); err != nil {
		return field("devices", err)
	}
	for i, rule := range rules {
		file, value := "devices.deny", rule.String()
		if rule.Allow {
			file = "devices.allow"
		}
		if rule.Type == 'a' {
			value = "a"
		}
		if err := w.Write(filepath.Join(dir, file), value); err != nil {
			return field(fmt.Sprintf("devices[%d]", i), err)
		}
	}
	return nil
}
