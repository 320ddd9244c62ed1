// Package console creates pseudo-terminals and passes their master end
// over unix sockets (SCM_RIGHTS), the way runc-compatible runtimes hand a
// container's terminal to the engine's --console-socket.
//
// It owns pty creation, fd passing and terminal modes (raw mode, window
// size). Relaying bytes between a pty and the user's terminal is done by
// the callers.
package console

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// NewPty opens a new pty pair through ptmx (a path such as /dev/ptmx as
// the caller's root sees it). The slave is opened from the master with
// TIOCGPTPEER, so no path lookup can swap it.
func NewPty(ptmx string) (master, slave *os.File, err error) {
	m, err := unix.Open(ptmx, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", ptmx, err)
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	n, err := unix.IoctlGetInt(m, unix.TIOCGPTN)
	if err != nil {
		unix.Close(m)
		return nil, nil, fmt.Errorf("get pty number: %w", err)
	}
	s, err := ptyPeer(m)
	if err != nil {
		unix.Close(m)
		return nil, nil, err
	}
	name := fmt.Sprintf("/dev/pts/%d", n)
	return os.NewFile(uintptr(m), "ptmx"), os.NewFile(uintptr(s), name), nil
}

// ptyPeer opens the slave of master (TIOCGPTPEER takes open flags, which
// x/sys/unix has no wrapper for).
func ptyPeer(master int) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(master), uintptr(unix.TIOCGPTPEER),
		uintptr(unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC))
	if errno != 0 {
		return -1, fmt.Errorf("open pty slave: %w", errno)
	}
	return int(r), nil
}

// SetWinsize sets the window size of the terminal f.
func SetWinsize(f *os.File, rows, cols uint16) error {
	ws := &unix.Winsize{Row: rows, Col: cols}
	if err := unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		return fmt.Errorf("set window size of %s: %w", f.Name(), err)
	}
	return nil
}

// Winsize returns the window size of the terminal f.
func Winsize(f *os.File) (rows, cols uint16, err error) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0, fmt.Errorf("get window size of %s: %w", f.Name(), err)
	}
	return ws.Row, ws.Col, nil
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// MakeRaw puts the terminal f in raw mode and returns a function that
// restores the previous mode.
func MakeRaw(f *os.File) (restore func() error, err error) {
	fd := int(f.Fd())
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, fmt.Errorf("get terminal mode of %s: %w", f.Name(), err)
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, fmt.Errorf("set raw mode on %s: %w", f.Name(), err)
	}
	return func() error { return unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}

// SendFd sends f over the connected unix socket sock with SCM_RIGHTS; name
// travels as the message body (runc sends the pty's path, and engines
// accept any name).
func SendFd(sock *os.File, name string, f *os.File) error {
	oob := unix.UnixRights(int(f.Fd()))
	if err := unix.Sendmsg(int(sock.Fd()), []byte(name), oob, nil, 0); err != nil {
		return fmt.Errorf("send %s over %s: %w", name, sock.Name(), err)
	}
	return nil
}

// RecvFd receives one fd sent with SendFd.
func RecvFd(sock *os.File) (*os.File, error) {
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("receive fd over %s: %w", sock.Name(), err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		return nil, fmt.Errorf("parse control message from %s: %w", sock.Name(), err)
	}
	for _, m := range msgs {
		fds, err := unix.ParseUnixRights(&m)
		if err != nil || len(fds) == 0 {
			continue
		}
		for _, extra := range fds[1:] {
			unix.Close(extra)
		}
		return os.NewFile(uintptr(fds[0]), string(buf[:n])), nil
	}
	return nil, fmt.Errorf("no fd received over %s", sock.Name())
}

// MakeControlling makes the pty slave the calling process's stdin, stdout
// and stderr and its controlling terminal, in a new session (a process can
// only acquire a controlling terminal as a session leader without one).
func MakeControlling(slave *os.File) error {
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
			return fmt.Errorf("set %s as fd %d: %w", slave.Name(), fd, err)
		}
	}
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("make %s the controlling terminal: %w", slave.Name(), err)
	}
	return nil
}
