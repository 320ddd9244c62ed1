package link

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sysctls under /proc/sys/net belong to the network namespace of the thread that
// opens them, so every access below runs on a throwaway thread inside h's
// namespace.

// sysctl names one entry by its path components, so that device names containing
// dots stay intact.
type sysctl []string

var (
	sysctlIPv4Forward = sysctl{"net", "ipv4", "ip_forward"}
	sysctlIPv6Forward = sysctl{"net", "ipv6", "conf", "all", "forwarding"}
)

func routeLocalnet(dev string) sysctl {
	return sysctl{"net", "ipv4", "conf", dev, "route_localnet"}
}

// String is the sysctl(8) spelling, e.g. net.ipv4.ip_forward.
func (s sysctl) String() string { return strings.Join(s, ".") }

func (s sysctl) path() string {
	return filepath.Join(append([]string{"/proc/sys"}, s...)...)
}

func readSysctl(s sysctl) (string, error) {
	b, err := os.ReadFile(s.path())
	if err != nil {
		return "", fmt.Errorf("read sysctl %s: %w", s, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeSysctl(s sysctl, value string) error {
	f, err := os.OpenFile(s.path(), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return fmt.Errorf("set sysctl %s=%s: %w", s, value, err)
	}
	_, err = f.WriteString(value + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("set sysctl %s=%s: %w", s, value, err)
	}
	return nil
}

// ensureSysctl sets s to value in h's namespace unless it already is; it reports
// whether it wrote.
func (h *Host) ensureSysctl(s sysctl, value string) (changed bool, err error) {
	err = h.do(func() error {
		cur, err := readSysctl(s)
		if err != nil {
			return err
		}
		if cur == value {
			return nil
		}
		if err := writeSysctl(s, value); err != nil {
			return err
		}
		changed = true
		return nil
	})
	return changed, err
}

// EnableForwarding sets net.ipv4.ip_forward (v4) and net.ipv6.conf.all.forwarding (v6)
// to 1 where they are 0, and reports which it changed; leaves 1 alone. Note that
// turning on IPv6 forwarding makes the kernel ignore router advertisements on
// interfaces whose accept_ra is 1.
func (h *Host) EnableForwarding(v4, v6 bool) (changed []string, err error) {
	var want []sysctl
	if v4 {
		want = append(want, sysctlIPv4Forward)
	}
	if v6 {
		want = append(want, sysctlIPv6Forward)
	}
	for _, s := range want {
		c, err := h.ensureSysctl(s, "1")
		if err != nil {
			return changed, fmt.Errorf("enable forwarding: %w", err)
		}
		if c {
			changed = append(changed, s.String())
		}
	}
	return changed, nil
}
