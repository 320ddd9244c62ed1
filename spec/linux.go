package spec

import (
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

// checkLinux checks the linux section after linux.namespaces, which
// checkNamespaces has done.
func (v *validator) checkLinux() error {
	linux := v.spec.Linux
	if err := checkUnsupported(linux); err != nil {
		return err
	}
	if err := v.checkSysctls(); err != nil {
		return err
	}
	if err := v.checkDevices(); err != nil {
		return err
	}
	if err := v.checkRestrictedPaths("linux.maskedPaths", linux.MaskedPaths); err != nil {
		return err
	}
	if err := v.checkRestrictedPaths("linux.readonlyPaths", linux.ReadonlyPaths); err != nil {
		return err
	}
	switch linux.RootfsPropagation {
	case "", "shared", "slave", "private", "unbindable", "rshared", "rslave", "rprivate", "runbindable":
	default:
		return invalidf("linux.rootfsPropagation", "unknown propagation %q", linux.RootfsPropagation)
	}
	if p := linux.Personality; p != nil {
		if p.Domain != specs.PerLinux && p.Domain != specs.PerLinux32 {
			return invalidf("linux.personality.domain", "unknown domain %q, want LINUX or LINUX32", p.Domain)
		}
		// The runtime-spec defines no flags yet.
		if len(p.Flags) > 0 {
			return invalidf(elem("linux.personality.flags", 0), "unknown flag %q", p.Flags[0])
		}
	}
	return nil
}

// checkUnsupported refuses the runtime-spec features tincan-oci does not
// implement, rather than starting a container without them. This is the one
// place to change when one of them is implemented.
func checkUnsupported(linux *specs.Linux) error {
	unsupported := []struct {
		field string
		set   bool
	}{
		{"linux.intelRdt", linux.IntelRdt != nil},
		{"linux.memoryPolicy", linux.MemoryPolicy != nil},
		{"linux.netDevices", len(linux.NetDevices) > 0},
	}
	for _, u := range unsupported {
		if u.set {
			return errdefs.Unsupported("%s: not supported by tincan-oci", u.field)
		}
	}
	return nil
}

// Linux device numbers: the kernel's dev_t has 12 bits of major and 20 bits
// of minor.
const (
	maxDeviceMajor = 1<<12 - 1
	maxDeviceMinor = 1<<20 - 1
)

// checkDevices checks linux.devices: the device nodes to create.
func (v *validator) checkDevices() error {
	seen := make(map[string]int, len(v.spec.Linux.Devices))
	for i, d := range v.spec.Linux.Devices {
		field := elem("linux.devices", i)
		pathField := member(field, "path")
		if err := checkAbsPath(pathField, d.Path); err != nil {
			return err
		}
		switch d.Type {
		case "c", "b", "u":
			// The struct cannot tell an absent number from 0, and 0:0 is
			// not a device (major 0 is reserved), so 0:0 means "missing".
			if d.Major == 0 && d.Minor == 0 {
				return invalidf(field, "major and minor numbers are required for type %q", d.Type)
			}
		case "p":
			// A fifo has no device number; runc ignores any given, and so
			// does the conformance suite's config.
		case "":
			return invalidf(member(field, "type"), "required (c, b, u or p)")
		default:
			return invalidf(member(field, "type"), "unknown device type %q, want c, b, u or p", d.Type)
		}
		if d.Major < 0 || d.Major > maxDeviceMajor {
			return invalidf(member(field, "major"), "%d is outside [0, %d]", d.Major, maxDeviceMajor)
		}
		if d.Minor < 0 || d.Minor > maxDeviceMinor {
			return invalidf(member(field, "minor"), "%d is outside [0, %d]", d.Minor, maxDeviceMinor)
		}
		// runc accepts a node listed twice and keeps the first.
		clean := filepath.Clean(d.Path)
		if first, dup := seen[clean]; dup {
			v.warnf(pathField, "%s is also created by %s", d.Path, elem("linux.devices", first))
			continue
		}
		seen[clean] = i
	}
	return nil
}

// checkRestrictedPaths checks linux.maskedPaths or linux.readonlyPaths:
// absolute paths, hidden or remounted inside the container's own mount
// namespace; without one they would be hidden on the host.
func (v *validator) checkRestrictedPaths(field string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	if _, ok := v.namespaces.lookup(specs.MountNamespace); !ok {
		return invalidf(field, "mount namespace required to restrict paths")
	}
	for i, p := range paths {
		if err := checkAbsPath(elem(field, i), p); err != nil {
			return err
		}
	}
	return nil
}
