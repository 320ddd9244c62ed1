package cgroups

import (
	"strings"

	"github.com/tincan/tincan/errdefs"
)

// DefaultParent is the cgroup under which containers go when config.json
// gives no cgroupsPath or a relative one.
const DefaultParent = "/tincan"

// ResolvePath turns the OCI linux.cgroupsPath of container id into a cgroup
// path below the hierarchy roots:
//
//	""                 -> DefaultParent/id
//	"/a/b"             -> "/a/b", cleaned
//	"a/b"              -> DefaultParent/a/b, so that a relative path never
//	                      lands next to the runtime's own cgroup
//	"slice:prefix:name" -> an Unsupported error: systemd cgroup paths need
//	                      --systemd-cgroup and systemd, which this runtime
//	                      does not drive
//
// A path whose ".." climbs above its root (the hierarchy root, or
// DefaultParent for relative paths), or that resolves to that root itself,
// is an InvalidArgument error: the container must own its cgroup.
func ResolvePath(cgroupsPath, id string) (string, error) {
	if cgroupsPath == "" {
		if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") {
			return "", errdefs.InvalidArgument("cgroup for container %q: the id cannot name a cgroup", id)
		}
		return DefaultParent + "/" + id, nil
	}
	if isSystemdPath(cgroupsPath) {
		return "", errdefs.Unsupported("cgroupsPath %q: systemd cgroup paths (slice:prefix:name) need --systemd-cgroup and a running systemd, which this host lacks; use a path such as /tincan/%s", cgroupsPath, id)
	}
	if strings.ContainsRune(cgroupsPath, 0) {
		return "", errdefs.InvalidArgument("cgroupsPath %q: contains a NUL byte", cgroupsPath)
	}
	base := ""
	if !strings.HasPrefix(cgroupsPath, "/") {
		base = DefaultParent
	}
	var parts []string
	for _, part := range strings.Split(cgroupsPath, "/") {
		switch part {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", errdefs.InvalidArgument("cgroupsPath %q: \"..\" climbs above %s", cgroupsPath, rootName(base))
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, part)
		}
	}
	if len(parts) == 0 {
		return "", errdefs.InvalidArgument("cgroupsPath %q: resolves to %s itself, which a container cannot own", cgroupsPath, rootName(base))
	}
	return base + "/" + strings.Join(parts, "/"), nil
}

func rootName(base string) string {
	if base == "" {
		return "the cgroup root"
	}
	return base
}

// isSystemdPath reports whether p has the exact shape of a systemd cgroup
// path, "slice:prefix:name": three colon-separated fields, no slash, a slice
// that is empty or ends in ".slice", and a name. Any other path with colons
// is an ordinary cgroupfs path.
func isSystemdPath(p string) bool {
	fields := strings.Split(p, ":")
	if len(fields) != 3 || strings.Contains(p, "/") {
		return false
	}
	slice, name := fields[0], fields[2]
	return (slice == "" || strings.HasSuffix(slice, ".slice")) && name != ""
}
