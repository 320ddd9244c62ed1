package initproc

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/netif"
	"github.com/tincan/tincan/linux/personality"
	"github.com/tincan/tincan/linux/rootfs"
)

func (in *initState) setupLoopback() error {
	if !in.newNamespace(specs.NetworkNamespace) {
		return nil
	}
	return netif.BringUpLoopback()
}

func (in *initState) writeSysctls() error {
	for key, value := range in.b.Spec.Linux.Sysctl {
		path := filepath.Join("/proc/sys", strings.ReplaceAll(key, ".", "/"))
		if err := os.WriteFile(path, []byte(value), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
		}
	}
	return nil
}

func (in *initState) setHostname() error {
	if h := in.b.Spec.Hostname; h != "" {
		in.debugf("set hostname %q", h)
		if err := unix.Sethostname([]byte(h)); err != nil {
			return fmt.Errorf("set hostname %q: %w", h, err)
		}
	}
	if d := in.b.Spec.Domainname; d != "" {
		if err := unix.Setdomainname([]byte(d)); err != nil {
			return fmt.Errorf("set domainname %q: %w", d, err)
		}
	}
	return nil
}

// joinSessionKeyring gives the container a session keyring of its own, so
// it cannot see or change the keys of the host session that started it.
func (in *initState) joinSessionKeyring() error {
	if in.b.NoNewKeyring {
		return nil
	}
	id, err := unix.KeyctlJoinSessionKeyring("_ses." + in.b.ID)
	if err != nil {
		// Kernels without keyrings, or a seccomp policy that blocks keyctl
		// for the runtime itself, are not an error (runc ignores them too).
		if errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EPERM) {
			return nil
		}
		return fmt.Errorf("join session keyring: %w", err)
	}
	// Possessor may do everything; the user may only view and search, so
	// processes outside cannot read it by uid alone.
	const perm = 0x3f3f0000 | 0x0b0000
	if err := unix.KeyctlSetperm(id, perm); err != nil && !errors.Is(err, unix.ENOSYS) {
		return fmt.Errorf("set session keyring permissions: %w", err)
	}
	return nil
}

func (in *initState) createDevices() error {
	if in.devBoundFromHost() {
		return nil
	}
	// mknod is not permitted in a user namespace: bind the host's nodes.
	bind := in.newNamespace(specs.UserNamespace) || in.joinedUserNamespace()
	devices := append(rootfs.DefaultDevices(), in.b.Spec.Linux.Devices...)
	for _, d := range devices {
		if err := rootfs.CreateDevice(in.root, d, bind); err != nil {
			return err
		}
	}
	return rootfs.DevSymlinks(in.root)
}

// devBoundFromHost reports whether /dev is a bind mount of the host's /dev,
// in which case the devices are the host's and nothing is created.
func (in *initState) devBoundFromHost() bool {
	for _, m := range in.b.Spec.Mounts {
		if filepath.Clean(m.Destination) != "/dev" {
			continue
		}
		if m.Type == "bind" {
			return true
		}
		for _, o := range m.Options {
			if o == "bind" || o == "rbind" {
				return true
			}
		}
	}
	return false
}

func (in *initState) joinedUserNamespace() bool {
	for _, n := range in.b.Spec.Linux.Namespaces {
		if n.Type == specs.UserNamespace && n.Path != "" {
			return true
		}
	}
	return false
}

func (in *initState) setPersonality() error {
	p := in.b.Spec.Linux.Personality
	if p == nil {
		return nil
	}
	switch p.Domain {
	case specs.PerLinux32:
		return personality.Set(personality.Linux32)
	case specs.PerLinux:
		return personality.Set(personality.Linux)
	}
	return fmt.Errorf("linux.personality.domain: unknown domain %q", p.Domain)
}
