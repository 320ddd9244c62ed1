package spec

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// namespaceSet is linux.namespaces once checked: at most one entry per type.
type namespaceSet []specs.LinuxNamespace

// lookup returns the entry of type t; ok is false when the container stays
// in the runtime's namespace of that type.
func (n namespaceSet) lookup(t specs.LinuxNamespaceType) (ns specs.LinuxNamespace, ok bool) {
	for _, ns := range n {
		if ns.Type == t {
			return ns, true
		}
	}
	return specs.LinuxNamespace{}, false
}

// isNew reports whether the container gets a new namespace of type t.
func (n namespaceSet) isNew(t specs.LinuxNamespaceType) bool {
	ns, ok := n.lookup(t)
	return ok && ns.Path == ""
}

func knownNamespaceType(t specs.LinuxNamespaceType) bool {
	switch t {
	case specs.PIDNamespace, specs.NetworkNamespace, specs.MountNamespace, specs.IPCNamespace,
		specs.UTSNamespace, specs.UserNamespace, specs.CgroupNamespace, specs.TimeNamespace:
		return true
	}
	return false
}

// checkNamespaces checks linux.namespaces and the fields that only make
// sense with a given namespace: id mappings and time offsets. It records the
// namespaces for the checks that follow.
func (v *validator) checkNamespaces() error {
	linux := v.spec.Linux
	if linux == nil {
		return nil
	}
	const field = "linux.namespaces"
	for i, ns := range linux.Namespaces {
		nsField := elem(field, i)
		if !knownNamespaceType(ns.Type) {
			return invalidf(member(nsField, "type"), "unknown namespace type %q", ns.Type)
		}
		for j, earlier := range linux.Namespaces[:i] {
			if earlier.Type == ns.Type {
				return invalidf(member(nsField, "type"), "duplicate namespace %q (also %s)", ns.Type, elem(field, j))
			}
		}
		if ns.Path != "" {
			if err := checkAbsPath(member(nsField, "path"), ns.Path); err != nil {
				return err
			}
		}
	}
	v.namespaces = namespaceSet(linux.Namespaces)
	if err := v.checkUserNamespace(); err != nil {
		return err
	}
	return v.checkTimeOffsets()
}

// checkUserNamespace ties the id mappings to a user namespace: a new one
// cannot work without both maps, and maps without one mean nothing. A joined
// user namespace has its maps already; given ones must match them, which
// only the kernel can tell.
func (v *validator) checkUserNamespace() error {
	linux := v.spec.Linux
	_, hasUserNS := v.namespaces.lookup(specs.UserNamespace)
	if !hasUserNS {
		if len(linux.UIDMappings) > 0 {
			return invalidf("linux.uidMappings", "user namespace required for uid mappings")
		}
		if len(linux.GIDMappings) > 0 {
			return invalidf("linux.gidMappings", "user namespace required for gid mappings")
		}
		return nil
	}
	if v.namespaces.isNew(specs.UserNamespace) {
		if len(linux.UIDMappings) == 0 {
			return invalidf("linux.uidMappings", "user namespace enabled, but no uid mappings found")
		}
		if len(linux.GIDMappings) == 0 {
			return invalidf("linux.gidMappings", "user namespace enabled, but no gid mappings found")
		}
	}
	if err := checkIDMappings("linux.uidMappings", linux.UIDMappings); err != nil {
		return err
	}
	if err := checkIDMappings("linux.gidMappings", linux.GIDMappings); err != nil {
		return err
	}
	if v.namespaces.isNew(specs.UserNamespace) {
		return v.checkProcessIDsMapped()
	}
	return nil
}

// checkProcessIDsMapped requires the process's ids to be mapped in the new
// user namespace: setresuid(2), setresgid(2) and setgroups(2) fail with
// EINVAL for an unmapped id, which would only show at start.
func (v *validator) checkProcessIDsMapped() error {
	p, linux := v.spec.Process, v.spec.Linux
	if p == nil {
		return nil
	}
	if !idMapped(p.User.UID, linux.UIDMappings) {
		return invalidf("process.user.uid", "%d is not mapped by linux.uidMappings", p.User.UID)
	}
	if !idMapped(p.User.GID, linux.GIDMappings) {
		return invalidf("process.user.gid", "%d is not mapped by linux.gidMappings", p.User.GID)
	}
	for i, gid := range p.User.AdditionalGids {
		if !idMapped(gid, linux.GIDMappings) {
			return invalidf(elem("process.user.additionalGids", i), "%d is not mapped by linux.gidMappings", gid)
		}
	}
	return nil
}

// idMapped reports whether a container id falls in one of the mappings.
func idMapped(id uint32, mappings []specs.LinuxIDMapping) bool {
	for _, m := range mappings {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

// maxIDMapLines is the most lines uid_map and gid_map accept (Linux 4.15+).
const maxIDMapLines = 340

// maxID is the highest id a mapping may cover: the kernel refuses a range
// whose end does not fit in 32 bits, and (uid_t)-1 is never mappable.
const maxID = 1<<32 - 1

// checkIDMappings checks what the kernel checks when uid_map or gid_map is
// written: non-empty ranges that fit in 32 bits and overlap neither inside
// the container nor on the host.
func checkIDMappings(field string, mappings []specs.LinuxIDMapping) error {
	if len(mappings) > maxIDMapLines {
		return invalidf(field, "%d mappings, the kernel accepts at most %d", len(mappings), maxIDMapLines)
	}
	for i, m := range mappings {
		mField := elem(field, i)
		if m.Size == 0 {
			return invalidf(member(mField, "size"), "must be positive")
		}
		if uint64(m.ContainerID)+uint64(m.Size) > maxID {
			return invalidf(mField, "container ids %d+%d go past %d", m.ContainerID, m.Size, uint64(maxID-1))
		}
		if uint64(m.HostID)+uint64(m.Size) > maxID {
			return invalidf(mField, "host ids %d+%d go past %d", m.HostID, m.Size, uint64(maxID-1))
		}
		for j, earlier := range mappings[:i] {
			if overlaps(m.ContainerID, m.Size, earlier.ContainerID, earlier.Size) {
				return invalidf(mField, "container ids overlap %s", elem(field, j))
			}
			if overlaps(m.HostID, m.Size, earlier.HostID, earlier.Size) {
				return invalidf(mField, "host ids overlap %s", elem(field, j))
			}
		}
	}
	return nil
}

// overlaps reports whether [a, a+n) and [b, b+m) share an id.
func overlaps(a, n, b, m uint32) bool {
	return uint64(a) < uint64(b)+uint64(m) && uint64(b) < uint64(a)+uint64(n)
}

// checkTimeOffsets requires a new time namespace, because offsets can be
// written only before the first process enters it, and the two clocks that
// a time namespace can offset.
func (v *validator) checkTimeOffsets() error {
	offsets := v.spec.Linux.TimeOffsets
	if len(offsets) == 0 {
		return nil
	}
	const field = "linux.timeOffsets"
	if !v.namespaces.isNew(specs.TimeNamespace) {
		return invalidf(field, "a new time namespace is required to set time offsets")
	}
	// Map order is random; sort so the same config always reports the same
	// first problem.
	clocks := make([]string, 0, len(offsets))
	for clock := range offsets {
		clocks = append(clocks, clock)
	}
	sort.Strings(clocks)
	for _, clock := range clocks {
		if clock != "monotonic" && clock != "boottime" {
			return invalidf(entry(field, clock), "unknown clock, want monotonic or boottime")
		}
		if ns := offsets[clock].Nanosecs; ns >= 1e9 {
			return invalidf(member(entry(field, clock), "nanosecs"), "%d is not below one second", ns)
		}
	}
	return nil
}
