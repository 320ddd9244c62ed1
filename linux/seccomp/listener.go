package seccomp

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// SendListener hands the notify listener fd to the seccomp agent listening
// on the unix socket socketPath (linux.seccomp.listenerPath), as the
// runtime-spec describes: one connection, the container process state as
// JSON with fds ["seccompFd"] and the fd itself as SCM_RIGHTS, then close.
// The caller fills state, Metadata from linux.seccomp.listenerMetadata
// included; SendListener sets Fds (and Version when empty). fd stays open:
// the caller closes it once sent, so the container does not keep it.
func SendListener(socketPath string, fd int, state specs.ContainerProcessState) error {
	conn, err := ConnectListener(socketPath)
	if err != nil {
		return err
	}
	return SendListenerOn(conn, fd, state)
}

// ConnectListener connects to the seccomp agent's socket. The container init
// connects before pivot_root, while the host path is still reachable, and
// sends with SendListenerOn once the filter is loaded.
func ConnectListener(socketPath string) (*os.File, error) {
	sock, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("connect to seccomp agent %s: socket: %w", socketPath, err)
	}
	for {
		err = unix.Connect(sock, &unix.SockaddrUnix{Name: socketPath})
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(sock)
		return nil, fmt.Errorf("connect to seccomp agent %s: %w", socketPath, err)
	}
	return os.NewFile(uintptr(sock), "seccomp agent "+socketPath), nil
}

// SendListenerOn sends state and the listener fd over conn, from
// ConnectListener, and closes conn: the runtime-spec allows one state per
// connection. The profile must not notify sendmsg(2) or write(2), which
// this uses after the filter is loaded, or it would wait for itself.
func SendListenerOn(conn *os.File, fd int, state specs.ContainerProcessState) (err error) {
	defer func() {
		if cerr := conn.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("send seccomp listener to %s: close: %w", conn.Name(), cerr)
		}
	}()
	state.Fds = []string{specs.SeccompFdName}
	if state.Version == "" {
		state.Version = specs.Version
	}
	payload, err := json.Marshal(state)
	if err != nil {
		return fmt.Errorf("send seccomp listener to %s: encode state: %w", conn.Name(), err)
	}
	raw, err := conn.SyscallConn()
	if err != nil {
		return fmt.Errorf("send seccomp listener to %s: %w", conn.Name(), err)
	}
	var sendErr error
	if err := raw.Control(func(s uintptr) { sendErr = sendWithFd(int(s), payload, fd) }); err != nil {
		return fmt.Errorf("send seccomp listener to %s: %w", conn.Name(), err)
	}
	if sendErr != nil {
		return fmt.Errorf("send seccomp listener to %s: %w", conn.Name(), sendErr)
	}
	return nil
}

// sendWithFd writes payload to the stream socket s, the fd riding with the
// first bytes: the runtime-spec allows several sendmsg calls as long as the
// fds go in the first.
func sendWithFd(s int, payload []byte, fd int) error {
	rights := unix.UnixRights(fd)
	for len(payload) > 0 {
		// MSG_NOSIGNAL: an agent that hung up is an error, not a SIGPIPE.
		n, err := unix.SendmsgN(s, payload, rights, nil, unix.MSG_NOSIGNAL)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		payload, rights = payload[n:], nil
	}
	return nil
}
