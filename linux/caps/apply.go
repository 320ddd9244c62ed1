package caps

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// KeepCaps sets PR_SET_KEEPCAPS on the calling thread, so that switching
// from uid 0 to another uid keeps the permitted set. ApplyProcess turns it
// off again.
func KeepCaps() error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("keep capabilities across the user switch: %w", err)
	}
	return nil
}

// ApplyBounding drops from the calling thread's bounding set every
// capability up to LastCap that s.Bounding does not list. It needs
// CAP_SETPCAP, so it runs before the user switch.
func ApplyBounding(s Set) error {
	keep := mask(s.Bounding)
	for c := Cap(0); c <= LastCap(); c++ {
		if keep&(1<<uint(c)) != 0 {
			continue
		}
		// Asking first spares a drop, which needs CAP_SETPCAP even when
		// the capability is already gone.
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if err != nil {
			return fmt.Errorf("read %s in the bounding set: %w", c, err)
		}
		if in == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("drop %s from the bounding set: %w", c, err)
		}
	}
	return nil
}

// ApplyProcess gives the calling thread the effective, permitted and
// inheritable sets of s, then exactly the ambient set of s, and turns
// keep-caps off. It runs after the user switch, which clears the effective
// and ambient sets.
func ApplyProcess(s Set) error {
	eff, prm, inh := mask(s.Effective), mask(s.Permitted), mask(s.Inheritable)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(eff), Permitted: uint32(prm), Inheritable: uint32(inh)},
		{Effective: uint32(eff >> 32), Permitted: uint32(prm >> 32), Inheritable: uint32(inh >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("set capabilities (effective %s; permitted %s; inheritable %s): %w",
			formatCaps(s.Effective), formatCaps(s.Permitted), formatCaps(s.Inheritable), err)
	}
	if err := applyAmbient(s.Ambient); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("turn off keep-capabilities: %w", err)
	}
	return nil
}

func applyAmbient(ambient []Cap) error {
	err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	if errors.Is(err, unix.EINVAL) && len(ambient) == 0 {
		return nil // a kernel before 4.3 has no ambient set to clear
	}
	if err != nil {
		return fmt.Errorf("clear the ambient capability set: %w", err)
	}
	for _, c := range ambient {
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(c), 0, 0); err != nil {
			return fmt.Errorf("raise ambient capability %s (it must be permitted and inheritable): %w", c, err)
		}
	}
	return nil
}

// Current reads the capability sets of the calling thread, for tests and
// diagnostics. (/proc/self/status would show the main thread's.)
func Current() (Set, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return Set{}, fmt.Errorf("read capabilities: %w", err)
	}
	join := func(lo, hi uint32) []Cap { return fromMask(uint64(lo) | uint64(hi)<<32) }
	s := Set{
		Effective:   join(data[0].Effective, data[1].Effective),
		Permitted:   join(data[0].Permitted, data[1].Permitted),
		Inheritable: join(data[0].Inheritable, data[1].Inheritable),
	}
	for c := Cap(0); c <= LastCap(); c++ {
		in, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(c), 0, 0, 0)
		if err != nil {
			return Set{}, fmt.Errorf("read %s in the bounding set: %w", c, err)
		}
		if in == 1 {
			s.Bounding = append(s.Bounding, c)
		}
		amb, err := unix.PrctlRetInt(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_IS_SET, uintptr(c), 0, 0)
		if err != nil {
			return Set{}, fmt.Errorf("read %s in the ambient set: %w", c, err)
		}
		if amb == 1 {
			s.Ambient = append(s.Ambient, c)
		}
	}
	return s, nil
}

func formatCaps(caps []Cap) string {
	if len(caps) == 0 {
		return "none"
	}
	names := make([]string, len(caps))
	for i, c := range caps {
		names[i] = c.String()
	}
	return strings.Join(names, ",")
}
