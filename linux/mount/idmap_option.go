package mount

import (
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

const (
	idmapOption  = "idmap"
	ridmapOption = "ridmap"
)

// IDMapOpt is the "idmap" or "ridmap" mount option (runtime-spec 1.2
// idmapped mounts). The mapping itself normally comes from the mount's
// uidMappings/gidMappings or the container's user namespace; podman and crun
// also accept it inline, as "idmap=uids=0-1000-10#10-2000-5;gids=0-1000-10",
// which fills UIDs and GIDs.
type IDMapOpt struct {
	// Recursive ("ridmap") applies the mapping to every submount of an rbind.
	Recursive bool
	// UIDs and GIDs are the inline ranges; empty when none were given.
	UIDs, GIDs []IDMapRange
}

// IDMapRange is one "[@]fsid-hostid-size" range of an inline idmap value:
// ContainerID is the first id as stored in the filesystem, HostID the host
// id it shows as through the mount, Size the length of the range (the same
// shape as a line of /proc/PID/uid_map for the mount's user namespace).
type IDMapRange struct {
	specs.LinuxIDMapping
	// Relative is the "@" prefix: HostID is an id inside the container's
	// user namespace, to be translated through the container's mapping.
	Relative bool
}

func isIDMapOption(opt string) bool {
	name, _, _ := strings.Cut(opt, "=")
	return name == idmapOption || name == ridmapOption
}

// parseIDMapOption parses "idmap", "ridmap" and their "=uids=...;gids=..."
// forms.
func parseIDMapOption(opt string) (*IDMapOpt, error) {
	name, value, hasValue := strings.Cut(opt, "=")
	idmap := &IDMapOpt{Recursive: name == ridmapOption}
	if !hasValue {
		return idmap, nil
	}
	if value == "" {
		return nil, errdefs.InvalidArgument("mount option %q: empty mapping", opt)
	}
	for part := range strings.SplitSeq(value, ";") {
		key, ranges, ok := strings.Cut(part, "=")
		if !ok || ranges == "" {
			return nil, errdefs.InvalidArgument("mount option %q: %q is not uids=RANGES or gids=RANGES", opt, part)
		}
		parsed, err := parseIDMapRanges(ranges)
		if err != nil {
			return nil, errdefs.InvalidArgument("mount option %q: %w", opt, err)
		}
		switch key {
		case "uids":
			idmap.UIDs = append(idmap.UIDs, parsed...)
		case "gids":
			idmap.GIDs = append(idmap.GIDs, parsed...)
		default:
			return nil, errdefs.InvalidArgument("mount option %q: unknown key %q (want uids or gids)", opt, key)
		}
	}
	return idmap, nil
}

// parseIDMapRanges parses "[@]a-b-c#[@]a-b-c...".
func parseIDMapRanges(s string) ([]IDMapRange, error) {
	var out []IDMapRange
	for r := range strings.SplitSeq(s, "#") {
		var parsed IDMapRange
		r, parsed.Relative = strings.CutPrefix(r, "@")
		fields := strings.Split(r, "-")
		if len(fields) != 3 {
			return nil, errdefs.InvalidArgument("range %q is not FSID-HOSTID-SIZE", r)
		}
		var nums [3]uint32
		for i, f := range fields {
			n, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return nil, errdefs.InvalidArgument("range %q: %q is not an id: %w", r, f, err)
			}
			nums[i] = uint32(n)
		}
		if nums[2] == 0 {
			return nil, errdefs.InvalidArgument("range %q: size is zero", r)
		}
		parsed.ContainerID, parsed.HostID, parsed.Size = nums[0], nums[1], nums[2]
		out = append(out, parsed)
	}
	return out, nil
}
