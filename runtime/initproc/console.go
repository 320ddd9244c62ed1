package initproc

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/console"
)

// setupConsole gives the process a terminal: a pty from the container's
// devpts whose master goes to the console socket and whose slave becomes
// the process's stdio, controlling terminal and /dev/console.
func (in *initState) setupConsole() error {
	p := in.process()
	if p == nil || !p.Terminal {
		return nil
	}
	if in.b.ConsoleSocketFD < 0 {
		return fmt.Errorf("process.terminal is set but no console socket was given")
	}
	sock := fdFile(in.b.ConsoleSocketFD, "console-socket")
	defer sock.Close()
	master, slave, err := console.NewPty("/dev/ptmx")
	if err != nil {
		return err
	}
	defer slave.Close()
	if p.ConsoleSize != nil {
		if err := console.SetWinsize(slave, uint16(p.ConsoleSize.Height), uint16(p.ConsoleSize.Width)); err != nil {
			master.Close()
			return err
		}
	}
	if err := bindConsole(slave.Name()); err != nil {
		master.Close()
		return err
	}
	err = console.SendFd(sock, slave.Name(), master)
	master.Close()
	if err != nil {
		return err
	}
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup3(int(slave.Fd()), fd, 0); err != nil {
			return fmt.Errorf("set pty as fd %d: %w", fd, err)
		}
	}
	// A new session, so the pty can become its controlling terminal.
	if _, err := unix.Setsid(); err != nil {
		return fmt.Errorf("setsid: %w", err)
	}
	if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
		return fmt.Errorf("set controlling terminal: %w", err)
	}
	return nil
}

// bindConsole makes /dev/console the container's pty, so programs that
// write to the console reach the terminal rather than the host's console.
func bindConsole(slavePath string) error {
	f, err := os.OpenFile("/dev/console", os.O_CREATE|os.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return fmt.Errorf("create /dev/console: %w", err)
	}
	f.Close()
	if err := unix.Mount(slavePath, "/dev/console", "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s on /dev/console: %w", slavePath, err)
	}
	return nil
}
