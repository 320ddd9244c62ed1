package security

import (
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/internal/testutil"
)

// privateRuntime is a runtime whose binary is a copy no other process
// executes, so that write attempts on it fail only because of the
// runtime's protection (not with ETXTBSY because a test elsewhere runs it).
// rewriteFirstByte writes the first byte of path back unchanged: it
// succeeds exactly when the file could have been overwritten.
func rewriteFirstByte(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, 0); err != nil {
		return err
	}
	_, err = f.WriteAt(b, 0)
	return err
}

func privateRuntime(t *testing.T) (*testutil.Runtime, [32]byte) {
	t.Helper()
	r := testutil.NewRuntime(t)
	data, err := os.ReadFile(r.Bin)
	if err != nil {
		t.Fatal(err)
	}
	r.Bin = filepath.Join(t.TempDir(), "tincan-oci")
	if err := os.WriteFile(r.Bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return r, sha256.Sum256(data)
}

// TestOverwriteRuntimeBinary is CVE-2019-5736. Container A is created: its
// init is the runtime binary, waiting for start. Container B shares A's pid
// namespace, where A's init is pid 1, and tries to take an O_PATH handle on
// /proc/1/exe; once A is started (the runtime binary no longer runs) it
// reopens the handle for writing. The host does the same from outside.
//
// Two defences are checked separately. The waiting init is not dumpable,
// so a container without CAP_SYS_PTRACE cannot reach its /proc/<pid>/exe at
// all ("default caps"). A container with CAP_SYS_PTRACE gets past that and
// must then fail with EROFS: the init runs from a read-only mount of the
// binary (linux/selfexe). Writes put back the byte that was there, so even
// a vulnerable runtime's (private) binary is left as it was.
func TestOverwriteRuntimeBinary(t *testing.T) {
	t.Run("default caps", func(t *testing.T) { overwriteRuntimeBinary(t, false) })
	t.Run("CAP_SYS_PTRACE", func(t *testing.T) { overwriteRuntimeBinary(t, true) })
}

func overwriteRuntimeBinary(t *testing.T, ptrace bool) {
	testutil.RequiresRoot(t)
	r, sum := privateRuntime(t)

	a := newBundle(t)
	a.Spec.Process.Args = []string{"sleep", "1000"}
	a.Save(t)
	idA := containerID(t)
	create(t, r, a, idA)
	pidA := r.State(t, idA).Pid

	// From the host, while A's init waits.
	exe := "/proc/" + strconv.Itoa(pidA) + "/exe"
	if f, err := os.OpenFile(exe, os.O_WRONLY, 0); err == nil {
		f.Close()
		t.Fatalf("opened %s (the waiting init's binary) for writing", exe)
	} else if !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.ETXTBSY) {
		t.Fatalf("open %s for writing: %v, want EROFS or ETXTBSY", exe, err)
	}
	hostHandle, err := os.OpenFile(exe, unix.O_PATH, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer hostHandle.Close()

	b := newBundle(t, "exe-hold", "/out", "1")
	out := sharedDir(t, b, "/out")
	for i, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace {
			b.Spec.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(pidA) + "/ns/pid"
		}
	}
	if ptrace {
		c := b.Spec.Process.Capabilities
		c.Bounding = append(c.Bounding, "CAP_SYS_PTRACE")
		c.Effective = append(c.Effective, "CAP_SYS_PTRACE")
		c.Permitted = append(c.Permitted, "CAP_SYS_PTRACE")
	}
	b.Save(t)
	idB := containerID(t)
	t.Cleanup(func() { r.Cmd("delete", "--force", idB).Run() })
	if res := r.Exec(t, "run", "--detach", "--bundle", b.Dir, idB); res.Code != 0 {
		t.Fatalf("run B: exit %d: %s", res.Code, res.Stderr)
	}
	waitFile(t, filepath.Join(out, "ready"))

	r.MustExec(t, "start", idA)
	os.WriteFile(filepath.Join(out, "go"), nil, 0o644)
	waitFile(t, filepath.Join(out, "done"))
	data, _ := os.ReadFile(filepath.Join(out, "result"))
	got := keyValues(string(data))
	results := strings.TrimSpace(string(data))
	if !ptrace {
		if h := got["hold"]; h != "EACCES" && h != "EPERM" {
			t.Errorf("container B without CAP_SYS_PTRACE reached the waiting init's /proc/1/exe: hold=%q, want EACCES (results: %s)", h, results)
		}
	} else if h, held := got["hold"]; held {
		t.Errorf("container B with CAP_SYS_PTRACE could not hold /proc/1/exe (%s): the read-only mount went untested", h)
	} else if w := got["write-while-waiting"]; w != "EROFS" && w != "ETXTBSY" {
		t.Errorf("container B opened the waiting init's binary for writing: %q, want EROFS or ETXTBSY (results: %s)", w, results)
	} else if w := got["reopen-after-start"]; w != "EROFS" && w != "EACCES" && w != "EPERM" {
		// EROFS: the read-only mount root gets; EACCES or EPERM: the sealed
		// memfd copy of rootless runtimes. "ok" means the binary was writable.
		t.Errorf("container B rewrote the runtime binary after start: %q, want EROFS (results: %s)", w, results)
	}

	// The host's handle, reopened now that nothing executes the binary.
	if err := rewriteFirstByte("/proc/self/fd/" + strconv.Itoa(int(hostHandle.Fd()))); err == nil {
		t.Error("rewrote the started container's former executable from the host")
	} else if !errors.Is(err, unix.EROFS) && !errors.Is(err, unix.EPERM) {
		t.Errorf("rewrite from the host: %v, want EROFS (or EPERM for a sealed copy)", err)
	}

	after, err := os.ReadFile(r.Bin)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(after) != sum {
		t.Fatal("the runtime binary changed")
	}
	// Control: nothing runs the copy now, so it is writable through its own
	// path: EROFS came from the protection, not from the file.
	w, err := os.OpenFile(r.Bin, os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("control: open the runtime binary for writing: %v", err)
	}
	w.Close()
}
