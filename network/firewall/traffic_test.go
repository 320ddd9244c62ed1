package firewall

import (
	"net/netip"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// dropTimeout bounds a dial that is expected to fail because its packets are
// dropped (refused connections fail at once).
const dropTimeout = 500 * time.Millisecond

// publishTopo is a "host" namespace with bridge tbr0 (10.250.0.1/24,
// fd00:250::1/64) linking two containers, ctr (10.250.0.2, fd00:250::2) and
// ctr2 (10.250.0.3, fd00:250::3), and a veth to an "outside" namespace
// (host 192.0.2.1/24 and 2001:db8::1/64, outside .2 / ::2; outside has no
// route to the containers' subnets, so only masquerading lets containers
// reach it).
type publishTopo struct {
	host, ctr, ctr2, out netns.NsHandle
	fw                   *Firewall
	network              Network
}

// brnf turns br_netfilter on or off in the host namespace. With it on, a
// packet DNATed to a container on the bridge it came from is bridged rather
// than routed, back out of the port it came in on when a container reaches
// its own published port: that port needs hairpin mode, which the topology
// sets on both container ports.
func newPublishTopo(t *testing.T, brnf bool) *publishTopo {
	t.Helper()
	p := &publishTopo{host: newNetns(t), ctr: newNetns(t), ctr2: newNetns(t), out: newNetns(t)}
	brNetfilter(t, p.host, brnf)
	h := handleAt(t, p.host)
	br := addBridge(t, h, "tbr0", "10.250.0.1/24")
	setAddrUp(t, h, br, "fd00:250::1/64")
	for _, v := range []netlink.Link{
		addVeth(t, h, "vctr", "", br, peer{ns: p.ctr, addr: "10.250.0.2/24", gateway: "10.250.0.1"}),
		addVeth(t, h, "vctr2", "", br, peer{ns: p.ctr2, addr: "10.250.0.3/24", gateway: "10.250.0.1"}),
	} {
		if err := h.LinkSetHairpin(v, true); err != nil {
			t.Fatalf("hairpin mode on %s: %v", v.Attrs().Name, err)
		}
	}
	addVeth(t, h, "vout", "192.0.2.1/24", nil, peer{ns: p.out, addr: "192.0.2.2/24"})
	for _, c := range []struct {
		ns         netns.NsHandle
		link, addr string
	}{
		{p.ctr, "eth0", "fd00:250::2/64"},
		{p.ctr2, "eth0", "fd00:250::3/64"},
		{p.out, "eth0", "2001:db8::2/64"},
		{p.host, "vout", "2001:db8::1/64"},
	} {
		ch := handleAt(t, c.ns)
		l, err := ch.LinkByName(c.link)
		if err != nil {
			t.Fatalf("link %s: %v", c.link, err)
		}
		setAddrUp(t, ch, l, c.addr)
	}
	for _, ns := range []netns.NsHandle{p.ctr, p.ctr2} {
		addDefault6(t, handleAt(t, ns), "fd00:250::1")
	}
	sysctl(t, p.host, "net/ipv4/ip_forward", "1")
	sysctl(t, p.host, "net/ipv6/conf/all/forwarding", "1")
	sysctl(t, p.host, "net/ipv4/conf/tbr0/route_localnet", "1")
	p.fw = newFirewall(t, p.host)
	p.network = Network{Bridge: "tbr0", Subnets: []netip.Prefix{
		netip.MustParsePrefix("10.250.0.0/24"), netip.MustParsePrefix("fd00:250::/64")}}
	return p
}

// TestPublishTCP publishes a container's TCP port and reaches it from the
// host (127.0.0.1 and its own addresses), from another namespace, and from
// the container itself and its neighbour (hairpin); it also checks the
// outbound NAT. It runs with br_netfilter off and on.
func TestPublishTCP(t *testing.T) {
	needRoot(t)
	t.Run("br_netfilter=off", func(t *testing.T) { testPublishTCP(t, false) })
	t.Run("br_netfilter=on", func(t *testing.T) { testPublishTCP(t, true) })
}

func testPublishTCP(t *testing.T, brnf bool) {
	p := newPublishTopo(t, brnf)
	const hello = "hello from ctr\n"
	serveTCP(t, p.ctr, "10.250.0.2:8080", hello)
	serveTCP(t, p.ctr, "[fd00:250::2]:8080", hello)
	serveTCP(t, p.out, "192.0.2.2:7000", "outside\n")
	serveTCP(t, p.out, "[2001:db8::2]:7000", "outside\n")

	// Without rules: no published port, and no way back from outside.
	wantNoReply(t, p.host, "tcp", "127.0.0.1:18080", dropTimeout)
	wantNoReply(t, p.ctr, "tcp", "192.0.2.2:7000", dropTimeout)
	wantNoReply(t, p.ctr, "tcp", "[2001:db8::2]:7000", dropTimeout)

	if err := p.fw.AddNetwork(p.network); err != nil {
		t.Fatalf("AddNetwork: %v", err)
	}
	// Outbound NAT.
	wantReply(t, p.ctr, "tcp", "192.0.2.2:7000", "outside\n")
	wantReply(t, p.ctr, "tcp", "[2001:db8::2]:7000", "outside\n")

	c2 := netip.MustParseAddr("10.250.0.2")
	c6 := netip.MustParseAddr("fd00:250::2")
	err := p.fw.AddPorts([]PortRule{
		{Owner: "ctr", Protocol: "tcp", HostPort: 18080, ContainerIP: c2, ContainerPort: 8080},
		{Owner: "ctr", Protocol: "tcp", HostPort: 18080, ContainerIP: c6, ContainerPort: 8080},
	})
	if err != nil {
		t.Fatalf("AddPorts: %v", err)
	}
	for _, c := range []struct {
		name string
		from netns.NsHandle
		addr string
	}{
		{"host to localhost", p.host, "127.0.0.1:18080"},
		{"host to bridge address", p.host, "10.250.0.1:18080"},
		{"host to its other address", p.host, "192.0.2.1:18080"},
		{"outside", p.out, "192.0.2.1:18080"},
		{"outside over IPv6", p.out, "[2001:db8::1]:18080"},
		{"container to itself (hairpin)", p.ctr, "10.250.0.1:18080"},
		{"neighbour (hairpin)", p.ctr2, "10.250.0.1:18080"},
		{"neighbour over IPv6 (hairpin)", p.ctr2, "[fd00:250::1]:18080"},
		{"neighbour to the host's other address", p.ctr2, "192.0.2.1:18080"},
	} {
		t.Run(c.name, func(t *testing.T) { wantReply(t, c.from, "tcp", c.addr, hello) })
	}

	if err := p.fw.RemovePorts("ctr"); err != nil {
		t.Fatalf("RemovePorts: %v", err)
	}
	wantNoReply(t, p.out, "tcp", "192.0.2.1:18080", dropTimeout)
	wantNoReply(t, p.host, "tcp", "127.0.0.1:18080", dropTimeout)

	// A HostIP limits the rule to that address.
	err = p.fw.AddPorts([]PortRule{{Owner: "ctr", Protocol: "tcp", HostIP: netip.MustParseAddr("192.0.2.1"),
		HostPort: 18081, ContainerIP: c2, ContainerPort: 8080}})
	if err != nil {
		t.Fatalf("AddPorts with HostIP: %v", err)
	}
	wantReply(t, p.out, "tcp", "192.0.2.1:18081", hello)
	wantNoReply(t, p.host, "tcp", "10.250.0.1:18081", dropTimeout)

	if err := p.fw.RemovePorts("ctr"); err != nil {
		t.Fatalf("RemovePorts: %v", err)
	}
	if err := p.fw.RemoveNetwork("tbr0"); err != nil {
		t.Fatalf("RemoveNetwork: %v", err)
	}
	wantTables(t, p.host)
	wantNoReply(t, p.ctr, "tcp", "192.0.2.2:7000", dropTimeout)
}

// TestPublishUDP publishes a UDP port and reaches it from outside and from
// the host's localhost.
func TestPublishUDP(t *testing.T) {
	needRoot(t)
	p := newPublishTopo(t, false)
	serveUDP(t, p.ctr, "10.250.0.2:5353", "pong")
	if err := p.fw.AddNetwork(p.network); err != nil {
		t.Fatalf("AddNetwork: %v", err)
	}
	wantNoReply(t, p.out, "udp", "192.0.2.1:15353", dropTimeout)
	err := p.fw.AddPorts([]PortRule{{Owner: "ctr", Protocol: "udp", HostPort: 15353,
		ContainerIP: netip.MustParseAddr("10.250.0.2"), ContainerPort: 5353}})
	if err != nil {
		t.Fatalf("AddPorts: %v", err)
	}
	wantReply(t, p.out, "udp", "192.0.2.1:15353", "pong")
	wantReply(t, p.host, "udp", "127.0.0.1:15353", "pong")
	// A TCP rule would not match UDP and vice versa.
	wantNoReply(t, p.out, "tcp", "192.0.2.1:15353", dropTimeout)
	if err := p.fw.RemovePorts("ctr"); err != nil {
		t.Fatalf("RemovePorts: %v", err)
	}
	if err := p.fw.RemoveNetwork("tbr0"); err != nil {
		t.Fatalf("RemoveNetwork: %v", err)
	}
	wantTables(t, p.host)
}

// TestIsolation checks that two tincan networks cannot talk, that a
// non-tincan bridge is left alone, and that published ports stay reachable
// through a host address.
func TestIsolation(t *testing.T) {
	needRoot(t)
	host, a, b := newNetns(t), newNetns(t), newNetns(t)
	h := handleAt(t, host)
	brA := addBridge(t, h, "tbrA", "10.251.0.1/24")
	brB := addBridge(t, h, "tbrB", "10.252.0.1/24")
	addVeth(t, h, "va", "", brA, peer{ns: a, addr: "10.251.0.2/24", gateway: "10.251.0.1"})
	addVeth(t, h, "vb", "", brB, peer{ns: b, addr: "10.252.0.2/24", gateway: "10.252.0.1"})
	sysctl(t, host, "net/ipv4/ip_forward", "1")
	serveTCP(t, a, "10.251.0.2:9000", "A\n")
	serveTCP(t, b, "10.252.0.2:9000", "B\n")
	fw := newFirewall(t, host)
	netA := Network{Bridge: "tbrA", Subnets: []netip.Prefix{netip.MustParsePrefix("10.251.0.0/24")}}
	netB := Network{Bridge: "tbrB", Subnets: []netip.Prefix{netip.MustParsePrefix("10.252.0.0/24")}}

	// No rules: routed between the bridges.
	wantReply(t, b, "tcp", "10.251.0.2:9000", "A\n")
	wantReply(t, a, "tcp", "10.252.0.2:9000", "B\n")

	// Only A is tincan's: B is some other bridge, left alone.
	if err := fw.AddNetwork(netA); err != nil {
		t.Fatalf("AddNetwork A: %v", err)
	}
	wantReply(t, b, "tcp", "10.251.0.2:9000", "A\n")
	wantReply(t, a, "tcp", "10.252.0.2:9000", "B\n")

	// Both are: dropped either way.
	if err := fw.AddNetwork(netB); err != nil {
		t.Fatalf("AddNetwork B: %v", err)
	}
	wantNoReply(t, b, "tcp", "10.251.0.2:9000", dropTimeout)
	wantNoReply(t, a, "tcp", "10.252.0.2:9000", dropTimeout)
	// The host still reaches both.
	wantReply(t, host, "tcp", "10.251.0.2:9000", "A\n")
	wantReply(t, host, "tcp", "10.252.0.2:9000", "B\n")

	// A published port of A is reachable from B through a host address,
	// though A itself is not.
	err := fw.AddPorts([]PortRule{{Owner: "a", Protocol: "tcp", HostPort: 19000,
		ContainerIP: netip.MustParseAddr("10.251.0.2"), ContainerPort: 9000}})
	if err != nil {
		t.Fatalf("AddPorts: %v", err)
	}
	wantReply(t, b, "tcp", "10.252.0.1:19000", "A\n")
	wantNoReply(t, b, "tcp", "10.251.0.2:9000", dropTimeout)

	// B leaves tincan: allowed again both ways.
	if err := fw.RemoveNetwork("tbrB"); err != nil {
		t.Fatalf("RemoveNetwork B: %v", err)
	}
	wantReply(t, b, "tcp", "10.251.0.2:9000", "A\n")
	wantReply(t, a, "tcp", "10.252.0.2:9000", "B\n")

	if err := fw.RemovePorts("a"); err != nil {
		t.Fatalf("RemovePorts: %v", err)
	}
	if err := fw.RemoveNetwork("tbrA"); err != nil {
		t.Fatalf("RemoveNetwork A: %v", err)
	}
	wantTables(t, host)
}
