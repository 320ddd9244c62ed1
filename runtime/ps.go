package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/linux/procfs"
)

// Processes returns the host pids of the container's processes, sorted:
// every process in its cgroup (and the cgroups below it). A container
// without a cgroup (rootless) has those of its pid namespace when it made
// one, else its init alone; a stopped one has none.
func (c *Container) Processes() ([]int, error) {
	if c.state == nil {
		return nil, fmt.Errorf("container %q: %w", c.id, c.stateErr)
	}
	var pids []int
	switch {
	case c.state.CgroupPath != "":
		cg, err := cgroups.Load(c.state.CgroupPath)
		if errdefs.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if pids, err = cg.Pids(); err != nil {
			return nil, err
		}
	case c.Status() == Stopped:
	case c.ownPidNamespace():
		ns, err := procfs.PidNamespace(c.state.Pid)
		if err != nil {
			return nil, nil // gone meanwhile
		}
		if pids, err = procfs.PidsInNamespace(ns); err != nil {
			return nil, err
		}
	default:
		pids = []int{c.state.Pid}
	}
	slices.Sort(pids)
	return pids, nil
}

// PsTable runs ps(1) with psArgs (default -ef) and keeps its header and
// the lines of the processes in pids, found by the header's PID column, as
// runc's ps does.
func PsTable(pids []int, psArgs []string) ([]byte, error) {
	if len(psArgs) == 0 {
		psArgs = []string{"-ef"}
	}
	out, err := exec.Command("ps", psArgs...).Output()
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && len(exitErr.Stderr) > 0 {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(exitErr.Stderr))
		}
		return nil, fmt.Errorf("ps %s: %w", strings.Join(psArgs, " "), err)
	}
	return filterPsTable(out, pids)
}

func filterPsTable(out []byte, pids []int) ([]byte, error) {
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	column := slices.Index(strings.Fields(lines[0]), "PID")
	if column < 0 {
		return nil, errdefs.InvalidArgument("ps output has no PID column; give options that show it, such as -ef")
	}
	var b strings.Builder
	b.WriteString(lines[0] + "\n")
	for _, line := range lines[1:] {
		fields := strings.Fields(line)
		if len(fields) <= column {
			continue
		}
		if pid, err := strconv.Atoi(fields[column]); err == nil && slices.Contains(pids, pid) {
			b.WriteString(line + "\n")
		}
	}
	return []byte(b.String()), nil
}
