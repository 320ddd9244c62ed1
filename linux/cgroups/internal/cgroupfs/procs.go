package cgroupfs

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
)

// ReadProcs returns the process ids listed in dir/cgroup.procs.
func ReadProcs(dir string) ([]int, error) {
	file := filepath.Join(dir, "cgroup.procs")
	content, err := ReadFile(file)
	if err != nil {
		return nil, err
	}
	return parsePids(file, content)
}

func parsePids(file, content string) ([]int, error) {
	var pids []int
	for _, field := range strings.Fields(content) {
		pid, err := strconv.Atoi(field)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("parse %s: bad process id %q", file, field)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// TreePids returns the processes of the cgroup at dir and of every cgroup
// below it, each once. A cgroup that does not exist has no processes; a
// child cgroup removed while we walk is skipped for the same reason.
func TreePids(dir string) ([]int, error) {
	seen := make(map[int]bool)
	var pids []int
	err := filepath.WalkDir(dir, func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("list cgroup %s: %w", path, pathErrCause(err))
		}
		if !entry.IsDir() {
			return nil
		}
		procs, err := ReadProcs(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		for _, pid := range procs {
			if !seen[pid] {
				seen[pid] = true
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids, err
}
