package selfexe

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

// The figures in docs/SECURITY.md come from these (go test -bench . -run
// Cost -v ./linux/selfexe/).

func BenchmarkSetupReadonlyMount(b *testing.B) {
	testutil.RequiresRoot(b)
	for b.Loop() {
		f, err := readonlyMountOf("/proc/self/exe")
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func BenchmarkSetupSealedCopy(b *testing.B) {
	for b.Loop() {
		f, err := openSealedCopy()
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

// BenchmarkSpawn starts the test binary (which exits at once) from each
// kind of path: the cost execve sees, setup excluded.
func BenchmarkSpawn(b *testing.B) {
	paths := map[string]func() (*os.File, error){
		"proc-self-exe":  nil,
		"readonly-mount": func() (*os.File, error) { return readonlyMountOf("/proc/self/exe") },
		"sealed-copy":    openSealedCopy,
	}
	for name, open := range paths {
		b.Run(name, func(b *testing.B) {
			path := "/proc/self/exe"
			if open != nil {
				f, err := open()
				if err != nil {
					b.Skip(err)
				}
				defer f.Close()
				path = procFDPath(f)
			}
			for b.Loop() {
				cmd := &exec.Cmd{Path: path, Args: []string{"selfexe-helper"}, Env: []string{helperEnv + "=exit"}}
				if err := cmd.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// smapsRollup returns the kB figures of /proc/<pid>/smaps_rollup.
func smapsRollup(t *testing.T, pid int) map[string]int {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == "kB" {
			out[strings.TrimSuffix(f[0], ":")], _ = strconv.Atoi(f[1])
		}
	}
	return out
}

// TestCost reports the memory a waiting process started from each kind of
// path costs, and checks the read-only mount adds nothing while the sealed
// copy holds the whole binary.
func TestCost(t *testing.T) {
	testutil.RequiresRoot(t)
	fi, err := os.Stat("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	plain := waitingChild(t, "/proc/self/exe", nil)
	ro, err := readonlyMountOf("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	viaMount := waitingChild(t, procFDPath(ro), nil)
	memfd, err := openSealedCopy()
	if err != nil {
		t.Fatal(err)
	}
	viaCopy := waitingChild(t, procFDPath(memfd), nil)
	// Once the child runs, the memfd is held by its executable mapping.
	memfd.Close()

	var st unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(viaCopy.pid())+"/exe", &st); err != nil {
		t.Fatal(err)
	}
	copyBytes := st.Blocks * 512
	for _, c := range []struct {
		name string
		c    *child
	}{{"/proc/self/exe", plain}, {"read-only mount", viaMount}, {"sealed copy", viaCopy}} {
		m := smapsRollup(t, c.c.pid())
		t.Logf("%-16s Rss %6d kB  Pss %6d kB  Pss_Shmem %6d kB", c.name, m["Rss"], m["Pss"], m["Pss_Shmem"])
	}
	t.Logf("binary %d kB; the sealed copy holds %d kB of shared memory", fi.Size()/1024, copyBytes/1024)
	if copyBytes < fi.Size() {
		t.Errorf("sealed copy allocates %d bytes, less than the binary's %d: the figure is wrong", copyBytes, fi.Size())
	}
	if shm := smapsRollup(t, viaMount.pid())["Pss_Shmem"]; shm != 0 {
		t.Errorf("the read-only mount child has %d kB of shared memory, want 0", shm)
	}
}
