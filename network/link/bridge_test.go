package link

import (
	"net/netip"
	"sync"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestEnsureBridge(t *testing.T) {
	requireRoot(t)
	h, fd := privateHost(t)
	nl := nlAt(t, fd)

	b := Bridge{
		Name:  "tcbrtest0",
		MTU:   1400,
		Addrs: []netip.Prefix{netip.MustParsePrefix("10.88.0.1/16"), netip.MustParsePrefix("fd00:88::1/64")},
	}
	for i := range 2 {
		if err := h.EnsureBridge(b); err != nil {
			t.Fatalf("EnsureBridge #%d: %v", i+1, err)
		}
	}
	if hostHasLink(t, b.Name) {
		t.Fatalf("%s appeared in the test process's own namespace", b.Name)
	}

	l, err := nl.LinkByName(b.Name)
	if err != nil {
		t.Fatalf("bridge missing: %v", err)
	}
	if l.Type() != "bridge" {
		t.Errorf("type = %s, want bridge", l.Type())
	}
	if !isUp(l) {
		t.Errorf("bridge not up")
	}
	if l.Attrs().MTU != 1400 {
		t.Errorf("mtu = %d, want 1400", l.Attrs().MTU)
	}
	checkAddrs(t, nl, l, b.Addrs)

	var localnet string
	if err := runInNS(t, fd, func() error {
		var err error
		localnet, err = readSysctl(routeLocalnet(b.Name))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if localnet != "1" {
		t.Errorf("route_localnet = %q, want 1", localnet)
	}

	// MTU 0 means 1500; a changed MTU is applied to an existing bridge.
	b.MTU = 0
	if err := h.EnsureBridge(b); err != nil {
		t.Fatal(err)
	}
	if l, _ = nl.LinkByName(b.Name); l.Attrs().MTU != 1500 {
		t.Errorf("mtu = %d, want 1500", l.Attrs().MTU)
	}

	if err := h.DeleteBridge(b.Name); err != nil {
		t.Fatalf("DeleteBridge: %v", err)
	}
	if linkExists(t, nl, b.Name) {
		t.Errorf("bridge still there after DeleteBridge")
	}
	if err := h.DeleteBridge(b.Name); err != nil {
		t.Errorf("DeleteBridge of a missing bridge: %v", err)
	}
}

// checkAddrs checks l has exactly the wanted prefixes among its global addresses,
// IPv6 ones with NODAD and not tentative.
func checkAddrs(t *testing.T, nl *netlink.Handle, l netlink.Link, want []netip.Prefix) {
	t.Helper()
	addrs, err := nl.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	got := map[netip.Prefix]int{}
	for _, a := range addrs {
		p, ok := addrPrefix(a)
		if !ok || p.Addr().IsLinkLocalUnicast() {
			continue
		}
		got[p]++
		if p.Addr().Is6() {
			if a.Flags&unix.IFA_F_NODAD == 0 {
				t.Errorf("%s on %s lacks NODAD (flags %#x)", p, l.Attrs().Name, a.Flags)
			}
			if a.Flags&unix.IFA_F_TENTATIVE != 0 {
				t.Errorf("%s on %s is tentative", p, l.Attrs().Name)
			}
		}
	}
	for _, p := range want {
		if got[p] != 1 {
			t.Errorf("%s on %s: %d times, want once (have %v)", p, l.Attrs().Name, got[p], got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("addresses on %s: %v, want %v", l.Attrs().Name, got, want)
	}
}

func TestEnsureBridgeConcurrent(t *testing.T) {
	requireRoot(t)
	_, fd := privateHost(t)
	b := Bridge{Name: "tcbrtest1", Addrs: []netip.Prefix{netip.MustParsePrefix("10.90.0.1/24"), netip.MustParsePrefix("fd00:90::1/64")}}
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		// Separate Hosts, as separate processes would have.
		h, err := At(fd)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		wg.Go(func() { errs[i] = h.EnsureBridge(b) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("EnsureBridge #%d: %v", i, err)
		}
	}
	nl := nlAt(t, fd)
	l, err := nl.LinkByName(b.Name)
	if err != nil {
		t.Fatal(err)
	}
	checkAddrs(t, nl, l, b.Addrs)
}

func TestEnsureBridgeNotABridge(t *testing.T) {
	requireRoot(t)
	h, fd := privateHost(t)
	nl := nlAt(t, fd)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "tcdummy0"
	if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "tcdummy1", PeerTxQLen: -1}); err != nil {
		t.Fatal(err)
	}
	if err := h.EnsureBridge(Bridge{Name: "tcdummy0"}); err == nil {
		t.Errorf("EnsureBridge on a dummy device succeeded")
	}
	if err := h.DeleteBridge("tcdummy0"); err == nil {
		t.Errorf("DeleteBridge on a dummy device succeeded")
	}
	if !linkExists(t, nl, "tcdummy0") {
		t.Errorf("DeleteBridge removed a dummy device")
	}
	if err := h.EnsureBridge(Bridge{Name: "bad/name"}); err == nil {
		t.Errorf("EnsureBridge accepted an invalid name")
	}
}
