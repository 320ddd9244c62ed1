package v1

import (
	"path/filepath"
	"strings"

	"github.com/tincan/tincan/linux/cgroups/internal/cgroupfs"
)

// inheritCpuset copies cpuset.cpus and cpuset.mems from each parent into
// every cgroup on the way from the root of the cpuset hierarchy at
// mountPoint down to path, where they are empty. The v1 cpuset controller
// creates cgroups with no CPUs and no memory nodes (unless the parent has
// cgroup.clone_children set), and refuses to take processes into such a
// cgroup (ENOSPC). Values a cgroup already has are left alone.
func inheritCpuset(mountPoint, path string) error {
	parent := mountPoint
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		dir := filepath.Join(parent, part)
		for _, file := range []string{"cpuset.cpus", "cpuset.mems"} {
			current, err := cgroupfs.ReadFile(filepath.Join(dir, file))
			if err != nil {
				return err
			}
			if strings.TrimSpace(current) != "" {
				continue
			}
			inherited, err := cgroupfs.ReadFile(filepath.Join(parent, file))
			if err != nil {
				return err
			}
			if err := cgroupfs.WriteFile(filepath.Join(dir, file), inherited); err != nil {
				return err
			}
		}
		parent = dir
	}
	return nil
}
