// Package procfs reads process facts from /proc: the start time that,
// with the pid, identifies a process across pid reuse, and whether it is
// still alive. It owns parsing /proc/<pid>/stat; it does not keep state.
package procfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
)

// Stat is the part of /proc/<pid>/stat tincan uses.
type Stat struct {
	// State is the one-letter process state (R, S, D, Z, T, ...).
	State byte
	// PPid is the parent pid.
	PPid int
	// StartTime is when the process started, in clock ticks since boot.
	StartTime uint64
}

// ErrNoProcess means there is no process with that pid.
var ErrNoProcess = errors.New("no such process")

// ReadStat reads /proc/<pid>/stat.
func ReadStat(pid int) (Stat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return Stat{}, fmt.Errorf("process %d: %w", pid, ErrNoProcess)
		}
		return Stat{}, fmt.Errorf("read stat of process %d: %w", pid, err)
	}
	return parseStat(data)
}

// parseStat parses a stat line. The command name (field 2) is in
// parentheses and may itself contain spaces and parentheses, so fields are
// counted from the last ')'.
func parseStat(data []byte) (Stat, error) {
	end := bytes.LastIndexByte(data, ')')
	if end < 0 || end+2 >= len(data) {
		return Stat{}, fmt.Errorf("malformed /proc stat line %q", data)
	}
	fields := bytes.Fields(data[end+2:])
	// After the name: state(3) ppid(4) ... starttime(22), so index 19.
	if len(fields) < 20 {
		return Stat{}, fmt.Errorf("short /proc stat line %q", data)
	}
	ppid, err := strconv.Atoi(string(fields[1]))
	if err != nil {
		return Stat{}, fmt.Errorf("parse ppid in stat: %w", err)
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return Stat{}, fmt.Errorf("parse start time in stat: %w", err)
	}
	return Stat{State: fields[0][0], PPid: ppid, StartTime: start}, nil
}

// Alive reports whether the process pid that started at startTime still
// runs: it exists, is not a zombie and is not a newer process that reused
// the pid. A zero startTime matches any start time.
func Alive(pid int, startTime uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := ReadStat(pid)
	if err != nil {
		return false
	}
	if st.State == 'Z' || st.State == 'X' {
		return false
	}
	return startTime == 0 || st.StartTime == startTime
}

// PidNamespace returns the pid namespace of pid, as the "pid:[inode]"
// text of /proc/<pid>/ns/pid.
func PidNamespace(pid int) (string, error) {
	ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/pid")
	if err != nil {
		return "", fmt.Errorf("pid namespace of process %d: %w", pid, err)
	}
	return ns, nil
}

// PidsInNamespace lists the processes (host pids) whose pid namespace is
// ns, as returned by PidNamespace. Processes that exit while the list is
// read are skipped.
func PidsInNamespace(ns string) ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if got, err := PidNamespace(pid); err == nil && got == ns {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}
