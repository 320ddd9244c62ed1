package link

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
)

var testBridge = Bridge{
	Name:  "tcbrtest2",
	Addrs: []netip.Prefix{netip.MustParsePrefix("10.89.0.1/24"), netip.MustParsePrefix("fd00:89::1/64")},
}

func TestAddEndpoint(t *testing.T) {
	requireRoot(t)
	h, fd := privateHost(t)
	nl := nlAt(t, fd)
	if err := h.EnsureBridge(testBridge); err != nil {
		t.Fatal(err)
	}
	br, err := nl.LinkByName(testBridge.Name)
	if err != nil {
		t.Fatal(err)
	}

	ns1, ns2 := nsFile(t, "c1"), nsFile(t, "c2")
	e1 := Endpoint{
		Bridge:   testBridge.Name,
		HostName: "tcvtest1",
		NetNS:    ns1,
		Name:     "eth0",
		MTU:      1400,
		Addrs:    []netip.Prefix{netip.MustParsePrefix("10.89.0.2/24"), netip.MustParsePrefix("fd00:89::2/64")},
		Gateways: []netip.Addr{netip.MustParseAddr("10.89.0.1"), netip.MustParseAddr("fd00:89::1")},
	}
	mac1, err := h.AddEndpoint(e1)
	if err != nil {
		t.Fatalf("AddEndpoint: %v", err)
	}
	if want := (net.HardwareAddr{0x02, 0x42, 10, 89, 0, 2}); !bytes.Equal(mac1, want) {
		t.Errorf("generated mac = %s, want %s", mac1, want)
	}
	checkEndpoint(t, e1, mac1)

	host, err := nl.LinkByName(e1.HostName)
	if err != nil {
		t.Fatalf("host end: %v", err)
	}
	if host.Attrs().MasterIndex != br.Attrs().Index {
		t.Errorf("host end master = %d, want bridge %d", host.Attrs().MasterIndex, br.Attrs().Index)
	}
	if !isUp(host) {
		t.Errorf("host end not up")
	}
	if hostHasLink(t, e1.HostName) {
		t.Fatalf("%s appeared in the test process's own namespace", e1.HostName)
	}

	e2 := Endpoint{
		Bridge:   testBridge.Name,
		HostName: "tcvtest2",
		NetNS:    ns2,
		Name:     "eth1",
		MAC:      net.HardwareAddr{0x02, 0, 0, 0, 0, 0x22},
		Addrs:    []netip.Prefix{netip.MustParsePrefix("10.89.0.3/24"), netip.MustParsePrefix("fd00:89::3/64")},
		Gateways: []netip.Addr{netip.MustParseAddr("10.89.0.1")},
	}
	mac2, err := h.AddEndpoint(e2)
	if err != nil {
		t.Fatalf("AddEndpoint: %v", err)
	}
	if !bytes.Equal(mac2, e2.MAC) {
		t.Errorf("mac = %s, want %s", mac2, e2.MAC)
	}
	e2.MTU = 1500 // the bridge's
	checkEndpoint(t, e2, mac2)

	if br, _ = nl.LinkByName(testBridge.Name); br.Attrs().MTU != 1500 {
		t.Errorf("bridge mtu = %d after a 1400 port joined, want 1500", br.Attrs().MTU)
	}

	names, err := h.Links("tcvtest")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"tcvtest1", "tcvtest2"}) {
		t.Errorf("Links(tcvtest) = %v", names)
	}

	// Reachability over the bridge, both families, both directions.
	in1, in2, inHost := pathRunner(t, ns1), pathRunner(t, ns2), fdRunner(t, fd)
	checkTCP(t, in1, in2, netip.MustParseAddrPort("10.89.0.2:0"))
	checkTCP(t, in2, in1, netip.MustParseAddrPort("10.89.0.3:0"))
	checkTCP(t, in1, in2, netip.MustParseAddrPort("[fd00:89::2]:0"))
	checkTCP(t, in2, in1, netip.MustParseAddrPort("[fd00:89::3]:0"))
	// The bridge's own addresses are the gateways; reach listeners on them.
	checkTCP(t, inHost, in1, netip.MustParseAddrPort("10.89.0.1:0"))
	checkTCP(t, inHost, in1, netip.MustParseAddrPort("[fd00:89::1]:0"))
}

// nsRunner runs a function on a thread inside some namespace.
type nsRunner func(fn func() error) error

func pathRunner(t *testing.T, path string) nsRunner {
	return func(fn func() error) error { return runInNSPath(t, path, fn) }
}

func fdRunner(t *testing.T, fd int) nsRunner {
	return func(fn func() error) error { return runInNS(t, fd, fn) }
}

// checkEndpoint checks the interface inside e.NetNS.
func checkEndpoint(t *testing.T, e Endpoint, mac net.HardwareAddr) {
	t.Helper()
	nl := nlAtPath(t, e.NetNS)
	l, err := nl.LinkByName(e.Name)
	if err != nil {
		t.Fatalf("%s inside %s: %v", e.Name, e.NetNS, err)
	}
	if l.Type() != "veth" {
		t.Errorf("%s type = %s", e.Name, l.Type())
	}
	if !bytes.Equal(l.Attrs().HardwareAddr, mac) {
		t.Errorf("%s mac = %s, want %s", e.Name, l.Attrs().HardwareAddr, mac)
	}
	if l.Attrs().MTU != e.MTU {
		t.Errorf("%s mtu = %d, want %d", e.Name, l.Attrs().MTU, e.MTU)
	}
	if !isUp(l) {
		t.Errorf("%s not up", e.Name)
	}
	checkAddrs(t, nl, l, e.Addrs)
	lo, err := nl.LinkByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	if !isUp(lo) {
		t.Errorf("lo not up in %s", e.NetNS)
	}

	routes, err := nl.RouteList(l, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var gws []netip.Addr
	for _, r := range routes {
		if r.Gw == nil {
			continue
		}
		if r.Dst != nil {
			if ones, _ := r.Dst.Mask.Size(); ones != 0 {
				continue
			}
		}
		gw, _ := netip.AddrFromSlice(r.Gw)
		gws = append(gws, gw.Unmap())
	}
	if fmt.Sprint(gws) != fmt.Sprint(e.Gateways) {
		t.Errorf("default routes via %v, want %v", gws, e.Gateways)
	}
}

// checkTCP listens on addr inside one namespace and dials it from inside another,
// reading a line (2 s timeouts).
func checkTCP(t *testing.T, listenIn, dialIn nsRunner, addr netip.AddrPort) {
	t.Helper()
	var ln net.Listener
	err := listenIn(func() error {
		var err error
		ln, err = net.Listen("tcp", addr.String())
		return err
	})
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	defer ln.Close()
	target := ln.Addr().String()

	served := make(chan error, 1)
	go func() {
		ln.(*net.TCPListener).SetDeadline(time.Now().Add(2 * time.Second))
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		_, err = io.WriteString(c, "hello\n")
		served <- err
	}()

	var got []byte
	err = dialIn(func() error {
		c, err := net.DialTimeout("tcp", target, 2*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		got, err = io.ReadAll(c)
		return err
	})
	if err != nil {
		t.Errorf("dial %s: %v", target, err)
		return
	}
	if err := <-served; err != nil {
		t.Errorf("serve %s: %v", target, err)
	}
	if string(got) != "hello\n" {
		t.Errorf("read %q from %s", got, target)
	}
}

func TestRemoveEndpoint(t *testing.T) {
	requireRoot(t)
	h, fd := privateHost(t)
	nl := nlAt(t, fd)
	if err := h.EnsureBridge(testBridge); err != nil {
		t.Fatal(err)
	}
	ns := nsFile(t, "c3")
	nsnl := nlAtPath(t, ns)
	// A host device with the inside name must not get in the way.
	attrs := netlink.NewLinkAttrs()
	attrs.Name = "eth0"
	if err := nl.LinkAdd(&netlink.Veth{LinkAttrs: attrs, PeerName: "eth0peer", PeerTxQLen: -1}); err != nil {
		t.Fatal(err)
	}
	e := Endpoint{
		Bridge: testBridge.Name, HostName: "tcvtest3", NetNS: ns, Name: "eth0",
		Addrs: []netip.Prefix{netip.MustParsePrefix("fd00:89::5/64")},
	}
	mac, err := h.AddEndpoint(e)
	if err != nil {
		t.Fatal(err)
	}
	if len(mac) != 6 || mac[0]&0x03 != 0x02 {
		t.Errorf("random mac %s is not locally administered unicast", mac)
	}
	if err := h.RemoveEndpoint(e.HostName); err != nil {
		t.Fatalf("RemoveEndpoint: %v", err)
	}
	if linkExists(t, nl, e.HostName) {
		t.Errorf("host end still there")
	}
	if linkExists(t, nsnl, e.Name) {
		t.Errorf("peer still there")
	}
	if err := h.RemoveEndpoint(e.HostName); err != nil {
		t.Errorf("RemoveEndpoint of a missing endpoint: %v", err)
	}
	if err := h.RemoveEndpoint(testBridge.Name); err == nil {
		t.Errorf("RemoveEndpoint removed a bridge")
	}
}

func TestAddEndpointFailureCleansUp(t *testing.T) {
	requireRoot(t)
	h, fd := privateHost(t)
	nl := nlAt(t, fd)
	ns := nsFile(t, "c4")
	nsnl := nlAtPath(t, ns)
	notNS := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(notNS, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	good := Endpoint{
		Bridge: testBridge.Name, HostName: "tcvtest4", NetNS: ns, Name: "eth0",
		Addrs:    []netip.Prefix{netip.MustParsePrefix("10.89.0.4/24")},
		Gateways: []netip.Addr{netip.MustParseAddr("10.89.0.1")},
	}

	check := func(what string, e Endpoint) {
		t.Helper()
		if _, err := h.AddEndpoint(e); err == nil {
			t.Errorf("%s: AddEndpoint succeeded", what)
		} else {
			t.Logf("%s: %v", what, err)
		}
		if names, _ := h.Links("tcvtest"); len(names) != 0 {
			t.Errorf("%s: left %v behind", what, names)
		}
		if linkExists(t, nsnl, e.Name) {
			t.Errorf("%s: left %s in the namespace", what, e.Name)
		}
	}

	check("bridge missing", good)
	if err := h.EnsureBridge(testBridge); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.NetNS = notNS
	check("not a namespace", bad)
	bad = good
	bad.Gateways = []netip.Addr{netip.MustParseAddr("10.99.0.1")} // unreachable: fails after the pair exists
	check("unreachable gateway", bad)
	bad = good
	bad.Addrs = append(bad.Addrs, netip.MustParsePrefix("fd00:89::4/64"))
	bad.Gateways = append(bad.Gateways, netip.MustParseAddr("fd00:99::1"))
	check("unreachable v6 gateway", bad)

	// A name already taken inside the namespace.
	if _, err := h.AddEndpoint(good); err != nil {
		t.Fatal(err)
	}
	bad = good
	bad.HostName = "tcvtest5"
	if _, err := h.AddEndpoint(bad); err == nil {
		t.Errorf("AddEndpoint with a taken name inside succeeded")
	}
	if linkExists(t, nl, "tcvtest5") {
		t.Errorf("taken name: left tcvtest5 behind")
	}
}
