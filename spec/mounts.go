package spec

import (
	"path/filepath"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// cleanDestination returns a mount destination as an absolute, clean path
// inside the container. A relative destination is taken relative to "/",
// as runc does, because old Docker versions sent "proc" for "/proc".
func cleanDestination(destination string) string {
	return filepath.Join("/", destination)
}

// isBindMount reports whether m is a bind mount: type "bind", or a bind or
// rbind option (the runtime-spec leaves the type free for bind mounts).
func isBindMount(m specs.Mount) bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

// checkMounts checks what every mount needs to be mountable; the options
// themselves are the mount package's business.
func (v *validator) checkMounts() error {
	for i, m := range v.spec.Mounts {
		field := elem("mounts", i)
		destination := member(field, "destination")
		if m.Destination == "" {
			return invalidf(destination, "required")
		}
		if err := checkPathString(destination, m.Destination); err != nil {
			return err
		}
		if !filepath.IsAbs(m.Destination) {
			v.warnf(destination, "%q is not absolute; using %q", m.Destination, cleanDestination(m.Destination))
		}
		if err := checkPathString(member(field, "source"), m.Source); err != nil {
			return err
		}
		bind := isBindMount(m)
		if bind && m.Source == "" {
			return invalidf(member(field, "source"), "required for a bind mount")
		}
		if !bind && m.Type == "" {
			return invalidf(member(field, "type"), "required unless the mount is a bind mount")
		}
		if err := checkMountIDMappings(field, m); err != nil {
			return err
		}
	}
	return nil
}

// checkMountIDMappings checks the mappings of an id-mapped mount. The kernel
// takes both maps from one user namespace, so one without the other cannot
// be built.
func checkMountIDMappings(field string, m specs.Mount) error {
	if len(m.UIDMappings) == 0 && len(m.GIDMappings) == 0 {
		return nil
	}
	if len(m.UIDMappings) == 0 {
		return invalidf(member(field, "uidMappings"), "required when gidMappings is set")
	}
	if len(m.GIDMappings) == 0 {
		return invalidf(member(field, "gidMappings"), "required when uidMappings is set")
	}
	if err := checkIDMappings(member(field, "uidMappings"), m.UIDMappings); err != nil {
		return err
	}
	return checkIDMappings(member(field, "gidMappings"), m.GIDMappings)
}
