package testutil

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Snapshot records what a container could leak on the host: mount points
// and cgroup directories.
type Snapshot struct {
	Mounts  map[string]bool
	Cgroups map[string]bool
}

// TakeSnapshot reads the host's mount table and every cgroup directory.
func TakeSnapshot(t testing.TB) Snapshot {
	t.Helper()
	s := Snapshot{Mounts: map[string]bool{}, Cgroups: map[string]bool{}}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var roots []string
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		s.Mounts[fields[4]] = true
		if i := strings.Index(sc.Text(), " - cgroup"); i > 0 {
			roots = append(roots, fields[4])
		}
	}
	for _, root := range roots {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				s.Cgroups[p] = true
			}
			return nil
		})
	}
	return s
}

// Leaks lists what is in after but not in before, keeping only entries
// whose path contains one of the markers (container ids, bundle dirs), so
// that unrelated activity on the host is not blamed on the test.
func Leaks(before, after Snapshot, markers ...string) []string {
	var out []string
	match := func(p string) bool {
		for _, m := range markers {
			if strings.Contains(p, m) {
				return true
			}
		}
		return len(markers) == 0
	}
	for m := range after.Mounts {
		if !before.Mounts[m] && match(m) {
			out = append(out, "mount "+m)
		}
	}
	for c := range after.Cgroups {
		if !before.Cgroups[c] && match(c) {
			out = append(out, "cgroup "+c)
		}
	}
	return out
}

// ProcessesWith lists pids whose command line contains marker.
func ProcessesWith(marker string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	self := os.Getpid()
	for _, e := range entries {
		pid := e.Name()
		if pid[0] < '0' || pid[0] > '9' || pid == itoa(self) {
			continue
		}
		data, err := os.ReadFile("/proc/" + pid + "/cmdline")
		if err == nil && strings.Contains(string(data), marker) {
			out = append(out, pid+": "+strings.ReplaceAll(string(data), "\x00", " "))
		}
	}
	return out
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for n > 0 || i == len(b) {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
