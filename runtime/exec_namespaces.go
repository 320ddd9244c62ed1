package runtime

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/procfs"
)

// procNSNames are the /proc/<pid>/ns entries of the runtime-spec
// namespace types.
var procNSNames = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
	specs.TimeNamespace:    "time",
}

// nsFile is one open namespace of the container's init.
type nsFile struct {
	flag uintptr
	file *os.File
}

// initHandles are what an exec'd process joins of the container's init.
type initHandles struct {
	// namespaces to join: every type the config lists, new or joined,
	// except those this process is already in.
	namespaces []nsFile
	// root is the init's root directory (O_PATH).
	root *os.File
}

func (h *initHandles) close() {
	for _, f := range h.namespaces {
		f.file.Close()
	}
	if h.root != nil {
		h.root.Close()
	}
}

// openInitHandles opens the namespaces and root of the container's init.
// They are opened through a handle on /proc/<pid> taken before the init's
// identity (pid and start time) is checked: a handle outlives neither its
// process nor a reuse of the pid, so a process that reused the pid can
// never be joined instead.
func openInitHandles(st *State) (_ *initHandles, err error) {
	dir, err := unix.Open("/proc/"+strconv.Itoa(st.Pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errdefs.NotRunning("cannot exec in a stopped container")
	}
	defer unix.Close(dir)
	if !procfs.Alive(st.Pid, st.PidStartTime) {
		return nil, errdefs.NotRunning("cannot exec in a stopped container")
	}
	h := &initHandles{}
	defer func() {
		if err != nil {
			h.close()
		}
	}()
	root, err := unix.Openat(dir, "root", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errdefs.NotRunning("cannot exec in a stopped container")
	}
	h.root = os.NewFile(uintptr(root), "init-root")
	for _, ns := range st.Config.Linux.Namespaces {
		name, ok := procNSNames[ns.Type]
		if !ok {
			return nil, errdefs.InvalidArgument("linux.namespaces: unknown namespace type %q", ns.Type)
		}
		fd, err := unix.Openat(dir, "ns/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
				return nil, errdefs.NotRunning("cannot exec in a stopped container")
			}
			return nil, fmt.Errorf("open %s namespace of container init %d: %w", ns.Type, st.Pid, err)
		}
		f := os.NewFile(uintptr(fd), "ns-"+name)
		if sameNamespace(f, name) {
			// Already ours (setns into one's own user namespace even fails).
			f.Close()
			continue
		}
		h.namespaces = append(h.namespaces, nsFile{flag: nsFlags[ns.Type], file: f})
	}
	return h, nil
}

// sameNamespace reports whether the namespace file f is this process's
// own namespace of that name.
func sameNamespace(f *os.File, name string) bool {
	var theirs, ours unix.Stat_t
	if unix.Fstat(int(f.Fd()), &theirs) != nil || unix.Stat("/proc/self/ns/"+name, &ours) != nil {
		return false
	}
	return theirs.Dev == ours.Dev && theirs.Ino == ours.Ino
}
