package link

import (
	"slices"
	"testing"
)

func TestEnableForwarding(t *testing.T) {
	requireRoot(t)
	h, fd := privateHost(t)

	read := func() (v4, v6 string) {
		t.Helper()
		if err := runInNS(t, fd, func() error {
			var err error
			if v4, err = readSysctl(sysctlIPv4Forward); err != nil {
				return err
			}
			v6, err = readSysctl(sysctlIPv6Forward)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return v4, v6
	}
	hostV4, err := readSysctl(sysctlIPv4Forward) // the test process's namespace
	if err != nil {
		t.Fatal(err)
	}

	// A new namespace may inherit ip_forward from the initial one: start from 0.
	if err := runInNS(t, fd, func() error {
		if err := writeSysctl(sysctlIPv4Forward, "0"); err != nil {
			return err
		}
		return writeSysctl(sysctlIPv6Forward, "0")
	}); err != nil {
		t.Fatal(err)
	}
	if v4, v6 := read(); v4 != "0" || v6 != "0" {
		t.Fatalf("setup: forwarding v4=%s v6=%s", v4, v6)
	}

	changed, err := h.EnableForwarding(true, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed, []string{"net.ipv4.ip_forward"}) {
		t.Errorf("changed = %v", changed)
	}
	if v4, v6 := read(); v4 != "1" || v6 != "0" {
		t.Errorf("after v4 only: v4=%s v6=%s", v4, v6)
	}

	changed, err = h.EnableForwarding(true, true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(changed, []string{"net.ipv6.conf.all.forwarding"}) {
		t.Errorf("changed = %v", changed)
	}
	if v4, v6 := read(); v4 != "1" || v6 != "1" {
		t.Errorf("after both: v4=%s v6=%s", v4, v6)
	}

	if changed, err = h.EnableForwarding(true, true); err != nil || len(changed) != 0 {
		t.Errorf("third call: changed %v, err %v", changed, err)
	}

	if v, err := readSysctl(sysctlIPv4Forward); err != nil || v != hostV4 {
		t.Errorf("the test process's ip_forward went from %s to %s (%v)", hostV4, v, err)
	}
}
