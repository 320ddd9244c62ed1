// Package userns writes the id maps of a new user namespace from outside
// it, as the parent of the process that created the namespace.
//
// It owns the map format and the choice between writing /proc/<pid>/*_map
// directly (root, or a single mapping of the caller's own id) and the
// setuid helpers newuidmap/newgidmap (an unprivileged caller mapping
// subordinate ids from /etc/subuid). It does not create namespaces.
package userns

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FormatMap renders mappings in the kernel's uid_map format.
func FormatMap(maps []specs.LinuxIDMapping) string {
	var b strings.Builder
	for _, m := range maps {
		fmt.Fprintf(&b, "%d %d %d\n", m.ContainerID, m.HostID, m.Size)
	}
	return b.String()
}

// WriteMaps sets the uid and gid maps of the user namespace process pid
// lives in.
func WriteMaps(pid int, uids, gids []specs.LinuxIDMapping) error {
	if os.Geteuid() == 0 {
		if err := writeMapFile(pid, "uid_map", uids); err != nil {
			return err
		}
		return writeMapFile(pid, "gid_map", gids)
	}
	// Unprivileged: a single mapping of our own id can be written
	// directly, once setgroups is denied for the gid map.
	if ownOnly(uids, os.Geteuid()) && ownOnly(gids, os.Getegid()) {
		if err := os.WriteFile(procPath(pid, "setgroups"), []byte("deny"), 0); err != nil {
			return fmt.Errorf("deny setgroups for process %d: %w", pid, err)
		}
		if err := writeMapFile(pid, "uid_map", uids); err != nil {
			return err
		}
		return writeMapFile(pid, "gid_map", gids)
	}
	if err := runHelper("newuidmap", pid, uids); err != nil {
		return err
	}
	return runHelper("newgidmap", pid, gids)
}

func procPath(pid int, name string) string {
	return "/proc/" + strconv.Itoa(pid) + "/" + name
}

func ownOnly(maps []specs.LinuxIDMapping, id int) bool {
	return len(maps) == 1 && maps[0].Size == 1 && int(maps[0].HostID) == id
}

func writeMapFile(pid int, name string, maps []specs.LinuxIDMapping) error {
	// The kernel accepts a map in one write only.
	if err := os.WriteFile(procPath(pid, name), []byte(FormatMap(maps)), 0); err != nil {
		return fmt.Errorf("write %s of process %d (%q): %w", name, pid, strings.TrimSpace(FormatMap(maps)), err)
	}
	return nil
}

func runHelper(helper string, pid int, maps []specs.LinuxIDMapping) error {
	args := []string{strconv.Itoa(pid)}
	for _, m := range maps {
		args = append(args, strconv.FormatUint(uint64(m.ContainerID), 10),
			strconv.FormatUint(uint64(m.HostID), 10), strconv.FormatUint(uint64(m.Size), 10))
	}
	out, err := exec.Command(helper, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", helper, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
