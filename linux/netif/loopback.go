// Package netif configures network interfaces of the calling process's
// network namespace with ioctls. It owns only what a container init needs
// before any network setup by engines (bringing up loopback); bridges,
// veths and addresses belong to the network package of the front end.
package netif

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// BringUpLoopback sets the "lo" interface up, as a new network namespace
// starts with it down and runc-compatible runtimes bring it up.
func BringUpLoopback() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket for loopback setup: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("get flags of lo: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}
