package firewall

import (
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netns"
)

// newFirewall is the firewall of ns; the test ends by deleting its table.
func newFirewall(t *testing.T, ns netns.NsHandle) *Firewall {
	t.Helper()
	fw, err := NewAt(int(ns))
	if err != nil {
		t.Fatalf("NewAt: %v", err)
	}
	t.Cleanup(func() {
		if err := fw.Delete(); err != nil {
			t.Errorf("Delete: %v", err)
		}
	})
	return fw
}

// nftConn is a connection to ns's nftables, for the tests' own reads.
func nftConn(t *testing.T, ns netns.NsHandle) *nftables.Conn {
	t.Helper()
	c, err := nftables.New(nftables.WithNetNSFd(int(ns)))
	if err != nil {
		t.Fatalf("nftables conn: %v", err)
	}
	return c
}

// tables lists ns's tables as "family name".
func tables(t *testing.T, ns netns.NsHandle) []string {
	t.Helper()
	ts, err := nftConn(t, ns).ListTables()
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var names []string
	for _, tb := range ts {
		fam := map[nftables.TableFamily]string{nftables.TableFamilyINet: "inet", nftables.TableFamilyIPv4: "ip"}[tb.Family]
		names = append(names, fam+" "+tb.Name)
	}
	slices.Sort(names)
	return names
}

func wantTables(t *testing.T, ns netns.NsHandle, want ...string) {
	t.Helper()
	if got := tables(t, ns); !slices.Equal(got, want) {
		t.Fatalf("tables = %q, want %q", got, want)
	}
}

func wantOwners(t *testing.T, fw *Firewall, wantBridges, wantPorts []string) {
	t.Helper()
	b, p, err := fw.Owners()
	if err != nil {
		t.Fatalf("Owners: %v", err)
	}
	if !slices.Equal(b, wantBridges) || !slices.Equal(p, wantPorts) {
		t.Fatalf("Owners = %q, %q; want %q, %q", b, p, wantBridges, wantPorts)
	}
}

// taggedRules counts the rules tagged tag in each chain.
func taggedRules(t *testing.T, ns netns.NsHandle, tag string) map[string]int {
	t.Helper()
	st, err := readState(nftConn(t, ns))
	if err != nil {
		t.Fatalf("read rules: %v", err)
	}
	n := map[string]int{}
	for _, r := range st.tagged(tag) {
		n[r.Chain.Name]++
	}
	return n
}

func TestRulesOwnTableOnly(t *testing.T) {
	needRoot(t)
	ns := newNetns(t)
	fw := newFirewall(t, ns)

	// Somebody else's table, which must come out as it went in.
	c := nftConn(t, ns)
	other := c.AddTable(&nftables.Table{Name: "other", Family: nftables.TableFamilyIPv4})
	otherChain := c.AddChain(&nftables.Chain{Name: "input", Table: other, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
	c.AddRule(&nftables.Rule{Table: other, Chain: otherChain, Exprs: []expr.Any{&expr.Counter{}}})
	if err := c.Flush(); err != nil {
		t.Fatalf("add other table: %v", err)
	}

	wantOwners(t, fw, nil, nil)
	n0 := Network{Bridge: "tbr0", Subnets: []netip.Prefix{
		netip.MustParsePrefix("10.250.0.0/24"), netip.MustParsePrefix("fd00:250::/64")}}
	if err := fw.AddNetwork(n0); err != nil {
		t.Fatalf("AddNetwork: %v", err)
	}
	wantTables(t, ns, "inet tincan", "ip other")
	first := taggedRules(t, ns, "net:tbr0")
	// outbound and hairpin masquerade per subnet, isolation in forward
	if first["postrouting"] != 4 || first["forward"] != 1 || len(first) != 2 {
		t.Fatalf("rules of tbr0 = %v, want 4 in postrouting and 1 in forward", first)
	}
	if err := fw.AddNetwork(n0); err != nil {
		t.Fatalf("AddNetwork again: %v", err)
	}
	if again := taggedRules(t, ns, "net:tbr0"); !mapsEqual(first, again) {
		t.Fatalf("re-adding tbr0 left rules %v, want %v", again, first)
	}
	if base := taggedRules(t, ns, baseTag); base["prerouting"] != 1 || base["output"] != 1 || base["postrouting"] != 1 {
		t.Fatalf("base rules = %v, want one each in prerouting, output and postrouting", base)
	}
	if err := fw.AddNetwork(Network{Bridge: "tbr1", Subnets: []netip.Prefix{netip.MustParsePrefix("10.251.0.0/24")}}); err != nil {
		t.Fatalf("AddNetwork tbr1: %v", err)
	}

	c1 := []PortRule{
		{Owner: "c1", Protocol: "tcp", HostPort: 8080, ContainerIP: netip.MustParseAddr("10.250.0.2"), ContainerPort: 80},
		{Owner: "c1", Protocol: "udp", HostIP: netip.MustParseAddr("fd00:1::1"), HostPort: 5353,
			ContainerIP: netip.MustParseAddr("fd00:250::2"), ContainerPort: 53},
		// HostIP of the other family: skipped.
		{Owner: "c1", Protocol: "tcp", HostIP: netip.MustParseAddr("192.0.2.1"), HostPort: 8081,
			ContainerIP: netip.MustParseAddr("fd00:250::2"), ContainerPort: 80},
	}
	if err := fw.AddPorts(c1); err != nil {
		t.Fatalf("AddPorts c1: %v", err)
	}
	if got := taggedRules(t, ns, "port:c1"); got["ports"] != 2 || len(got) != 1 {
		t.Fatalf("rules of c1 = %v, want 2 in ports", got)
	}
	if err := fw.AddPorts([]PortRule{{Owner: "c2", Protocol: "tcp", HostIP: netip.MustParseAddr("127.0.0.1"),
		HostPort: 9090, ContainerIP: netip.MustParseAddr("10.251.0.2"), ContainerPort: 90}}); err != nil {
		t.Fatalf("AddPorts c2: %v", err)
	}
	// One bad rule: the whole call adds nothing.
	err := fw.AddPorts([]PortRule{
		{Owner: "c3", Protocol: "tcp", HostPort: 1, ContainerIP: netip.MustParseAddr("10.250.0.3"), ContainerPort: 1},
		{Owner: "c3", Protocol: "sctp", HostPort: 2, ContainerIP: netip.MustParseAddr("10.250.0.3"), ContainerPort: 2},
	})
	if err == nil || !strings.Contains(err.Error(), "nftables: add port rules for c3") {
		t.Fatalf("AddPorts with sctp = %v, want an error", err)
	}
	wantTables(t, ns, "inet tincan", "ip other")
	wantOwners(t, fw, []string{"tbr0", "tbr1"}, []string{"c1", "c2"})
	wantBridgeSet(t, ns, "tbr0", "tbr1")

	if err := fw.RemovePorts("c1"); err != nil {
		t.Fatalf("RemovePorts c1: %v", err)
	}
	if err := fw.RemovePorts("nobody"); err != nil {
		t.Fatalf("RemovePorts nobody: %v", err)
	}
	wantOwners(t, fw, []string{"tbr0", "tbr1"}, []string{"c2"})
	if err := fw.RemoveNetwork("tbr0"); err != nil {
		t.Fatalf("RemoveNetwork tbr0: %v", err)
	}
	if err := fw.RemoveNetwork("tbr9"); err != nil {
		t.Fatalf("RemoveNetwork tbr9: %v", err)
	}
	wantOwners(t, fw, []string{"tbr1"}, []string{"c2"})
	wantBridgeSet(t, ns, "tbr1")
	if err := fw.RemovePorts("c2"); err != nil {
		t.Fatalf("RemovePorts c2: %v", err)
	}
	wantTables(t, ns, "inet tincan", "ip other")
	if err := fw.RemoveNetwork("tbr1"); err != nil {
		t.Fatalf("RemoveNetwork tbr1: %v", err)
	}
	wantTables(t, ns, "ip other")
	wantOwners(t, fw, nil, nil)

	// Everything is a no-op on a missing table.
	for name, err := range map[string]error{
		"RemoveNetwork": fw.RemoveNetwork("tbr1"),
		"RemovePorts":   fw.RemovePorts("c2"),
		"Delete":        fw.Delete(),
		"AddPorts(nil)": fw.AddPorts(nil),
	} {
		if err != nil {
			t.Errorf("%s without table: %v", name, err)
		}
	}
	wantTables(t, ns, "ip other")

	// Delete drops a populated table.
	if err := fw.AddPorts(c1); err != nil {
		t.Fatalf("AddPorts: %v", err)
	}
	if err := fw.Delete(); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantTables(t, ns, "ip other")
	rules, err := c.GetRules(other, otherChain)
	if err != nil || len(rules) != 1 {
		t.Fatalf("other table's rules = %d, %v; want 1", len(rules), err)
	}
}

// wantBridgeSet checks the elements of the bridge set.
func wantBridgeSet(t *testing.T, ns netns.NsHandle, want ...string) {
	t.Helper()
	elems, err := nftConn(t, ns).GetSetElements(bridgeSet())
	if err != nil {
		t.Fatalf("bridge set: %v", err)
	}
	var got []string
	for _, e := range elems {
		got = append(got, strings.TrimRight(string(e.Key), "\x00"))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("bridge set = %q, want %q", got, want)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestInvalidInput(t *testing.T) {
	if _, err := NewAt(-1); err == nil {
		t.Error("NewAt(-1): no error")
	}
	fw := &Firewall{netnsFd: -1} // never reaches the kernel
	bad := []Network{
		{Bridge: ""},
		{Bridge: "a-name-far-too-long"},
		{Bridge: "br0", Subnets: []netip.Prefix{{}}},
	}
	for _, n := range bad {
		if err := fw.AddNetwork(n); err == nil {
			t.Errorf("AddNetwork(%+v): no error", n)
		}
	}
	a := netip.MustParseAddr("10.0.0.2")
	for _, r := range []PortRule{
		{Owner: "", Protocol: "tcp", HostPort: 1, ContainerIP: a, ContainerPort: 1},
		{Owner: "c", Protocol: "icmp", HostPort: 1, ContainerIP: a, ContainerPort: 1},
		{Owner: "c", Protocol: "tcp", HostPort: 0, ContainerIP: a, ContainerPort: 1},
		{Owner: "c", Protocol: "tcp", HostPort: 1, ContainerPort: 1},
	} {
		if err := fw.AddPorts([]PortRule{r}); err == nil {
			t.Errorf("AddPorts(%+v): no error", r)
		}
	}
}
