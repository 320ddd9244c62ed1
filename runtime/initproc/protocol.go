package initproc

// The parent <-> init sync protocol, in one place.
//
// Processes: P is tincan-oci (create, run or exec); C is the nsenter
// constructor (linux/nsenter/nsenter.c) running in the re-executed
// "tincan-oci init" before the Go runtime; I is the Go init that follows it
// in the same process (or in C's CLONE_PARENT child when a pid or time
// namespace needs a fork).
//
// Transport: a SOCK_STREAM socketpair; P keeps one end, the init gets the
// other as the fd named by $_TINCAN_INIT_FD. Every message is a 4-byte type,
// a 4-byte payload length (native-endian) and the payload.
//
// Create (and run):
//
//	P: start "tincan-oci init" (C blocks reading the plan)
//	P: place the child in its cgroup, set oom_score_adj      [before C unshares the cgroup namespace]
//	P -> C  MsgNsPlan            namespaces to join and to create
//	C -> P  MsgUsernsMapRequest  only when creating a user namespace
//	P -> C  MsgUsernsMapDone     after writing uid_map/gid_map
//	C -> P  MsgInitPid           host pid of the process that runs I
//	P -> I  MsgBootstrap         JSON Bootstrap: spec, rootfs, fds, mode
//	I: network, mounts, devices                              [everything before pivot_root]
//	I -> P  MsgRunHooks          P runs prestart and createRuntime hooks
//	P -> I  MsgHooksDone
//	I: createContainer hooks, pivot_root, console, masked paths, user, caps
//	I -> P  MsgCreated           P records the state; create returns
//	I: blocks opening the exec fifo until "start" opens it, then
//	   startContainer hooks, seccomp, execve
//
// Exec (an additional process in a running container; ModeExec):
//
//	P: verify the container's init (pid + start time), open its namespace
//	   files and pass them as fds; the plan names them as /proc/self/fd/N
//	P: start "tincan-oci init"; place it in the container's cgroup (or a
//	   sub-cgroup), set oom_score_adj                      [before C joins]
//	P -> C  MsgNsPlan            join every namespace of the container's init
//	C -> P  MsgInitPid           host pid of I (forked with CLONE_PARENT when
//	                             the container has a pid or time namespace)
//	P -> I  MsgBootstrap         JSON Bootstrap, Mode "exec", the process
//	I: not dumpable, chroot to the init's root (passed as an fd), console
//	   from the container's /dev/ptmx, LSM labels, keyring, env, rlimits,
//	   user, caps, no_new_privs, cwd, resolve args[0]
//	I -> P  MsgReady             setup done; only confinement and execve remain
//	I: mark fds close-on-exec (the sync socket too), Landlock, seccomp, execve
//	P: reads EOF (the program runs) or MsgError (it failed); exec returns
//	   or, in the foreground, waits for the process
//
// No hooks run and no fifo is used for exec.
//
// Errors: C or I sends MsgError with a one-line message and exits non-zero;
// P reports it, kills what it started and removes what it made. If P goes
// away, C and I see EOF on their next read and exit, so a killed
// tincan-oci never leaves an init waiting forever before MsgCreated.
// MsgLog carries a debug line from I to P at any time.

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/lazyjson"
)

// MsgType identifies a message on the sync socket. The first five values
// are shared with nsenter.c and must not change.
type MsgType uint32

// Message types, in the order they appear in the protocol.
const (
	MsgNsPlan           MsgType = 1
	MsgUsernsMapRequest MsgType = 2
	MsgUsernsMapDone    MsgType = 3
	MsgInitPid          MsgType = 4
	MsgError            MsgType = 5
	MsgBootstrap        MsgType = 6
	MsgRunHooks         MsgType = 7
	MsgHooksDone        MsgType = 8
	MsgCreated          MsgType = 9
	MsgLog              MsgType = 10
	MsgReady            MsgType = 11
)

func (t MsgType) String() string {
	names := [...]string{"", "ns-plan", "userns-map-request", "userns-map-done", "init-pid", "error",
		"bootstrap", "run-hooks", "hooks-done", "created", "log", "ready"}
	if int(t) < len(names) && t != 0 {
		return names[t]
	}
	return fmt.Sprintf("message-%d", uint32(t))
}

// maxPayload bounds a payload so that a corrupt header cannot make the
// reader allocate without limit (a full config with a seccomp profile is
// well under a megabyte).
const maxPayload = 16 << 20

// Send writes one message.
func Send(w io.Writer, t MsgType, payload []byte) error {
	buf := make([]byte, 8+len(payload))
	binary.NativeEndian.PutUint32(buf[0:], uint32(t))
	binary.NativeEndian.PutUint32(buf[4:], uint32(len(payload)))
	copy(buf[8:], payload)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("send %s: %w", t, err)
	}
	return nil
}

// SendJSON writes one message whose payload is v as JSON.
func SendJSON(w io.Writer, t MsgType, v any) error {
	data, err := lazyjson.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", t, err)
	}
	return Send(w, t, data)
}

// Recv reads one message. io.EOF means the other side closed the socket
// cleanly between messages.
func Recv(r io.Reader) (MsgType, []byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	t := MsgType(binary.NativeEndian.Uint32(hdr[0:]))
	n := binary.NativeEndian.Uint32(hdr[4:])
	if n > maxPayload {
		return 0, nil, fmt.Errorf("sync message %s: payload of %d bytes is too large", t, n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, fmt.Errorf("read %s payload: %w", t, err)
	}
	return t, payload, nil
}

// Mode says what the init is for.
type Mode string

// Init modes.
const (
	ModeCreate Mode = "create" // the container's first process
	ModeExec   Mode = "exec"   // an additional process in a running container
)

// Bootstrap is everything the Go init needs, sent by P as MsgBootstrap. The
// fds it names were passed by P as the init's inherited files.
type Bootstrap struct {
	// Mode says which sequence the init runs.
	Mode Mode `json:"mode"`
	// ID is the container id.
	ID string `json:"id"`
	// Bundle is the absolute bundle directory (for hooks' state).
	Bundle string `json:"bundle"`
	// Rootfs is the absolute host path of the root filesystem.
	Rootfs string `json:"rootfs"`
	// RootfsOverlay, when set, is mounted on Rootfs inside the container's
	// mount namespace before anything else, so the container runs on a
	// copy-on-write view and nothing is mounted on the host (the tincan
	// front end uses it; config.json has no way to ask for it).
	RootfsOverlay *Overlay `json:"rootfsOverlay,omitempty"`
	// Spec is the validated container configuration.
	Spec *specs.Spec `json:"spec"`
	// Process is the process to run; for create it is Spec.Process (nil
	// means the container has no process and stops when started).
	Process *specs.Process `json:"process,omitempty"`
	// NoPivot uses MS_MOVE and chroot instead of pivot_root.
	NoPivot bool `json:"noPivot,omitempty"`
	// NoNewKeyring keeps the caller's session keyring.
	NoNewKeyring bool `json:"noNewKeyring,omitempty"`
	// PreserveFDs is how many fds from 3 up the container process keeps.
	PreserveFDs int `json:"preserveFds,omitempty"`
	// ListenFDs, when > 0, sets LISTEN_FDS/LISTEN_PID in the process
	// environment (systemd socket activation passed through).
	ListenFDs int `json:"listenFds,omitempty"`
	// FifoFD is the O_PATH fd of the exec fifo (-1 for exec mode).
	FifoFD int `json:"fifoFd"`
	// ConsoleSocketFD is the unix socket to send the pty master to, or -1.
	ConsoleSocketFD int `json:"consoleSocketFd"`
	// SeccompAgentFD is a connection to the seccomp listener (exec mode,
	// whose init cannot reach the listener's host path), or 0 for none.
	SeccompAgentFD int `json:"seccompAgentFd,omitempty"`
	// RootFD is the root directory of the container's init (exec mode), an
	// O_PATH fd the exec'd process chroots to, or 0.
	RootFD int `json:"rootFd,omitempty"`
	// NewNamespaces lists the namespace types created (not joined) for
	// this container, e.g. "mount", "network", "user".
	NewNamespaces []specs.LinuxNamespaceType `json:"newNamespaces,omitempty"`
	// CgroupMounts says what to mount for a "cgroup" mount entry.
	CgroupMounts []CgroupMount `json:"cgroupMounts,omitempty"`
	// HostPid is the init's pid as the runtime sees it (for the seccomp
	// agent, which lives in the runtime's namespaces).
	HostPid int `json:"hostPid"`
	// Seccomp is the compiled seccomp filter (seccomp.Program encoding),
	// or nil.
	Seccomp []byte `json:"seccomp,omitempty"`
	// HookState is the state given to createContainer and startContainer
	// hooks (pid filled in by the init as seen inside the container).
	HookState specs.State `json:"hookState"`
	// Debug makes the init report each step with MsgLog.
	Debug bool `json:"debug,omitempty"`
}

// Overlay is an overlayfs: read-only lower directories (first is the
// topmost) under a writable upper directory, with its work directory on
// the same filesystem as upper.
type Overlay struct {
	Lower []string `json:"lower"`
	Upper string   `json:"upper"`
	Work  string   `json:"work"`
}

// CgroupMount is one cgroup filesystem to show inside the container.
type CgroupMount struct {
	// Subsystems is the v1 hierarchy name as mounted ("cpu,cpuacct",
	// "name=systemd") or "" for cgroup2.
	Subsystems string `json:"subsystems"`
	// HostDir is the container's cgroup directory on the host, bound when
	// the container has no cgroup namespace of its own.
	HostDir string `json:"hostDir"`
}

// fdFile wraps an inherited fd number.
func fdFile(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }
