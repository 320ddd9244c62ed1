package network

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func TestAllocateSkipsUsedAndReservedAndMovesOn(t *testing.T) {
	sub := Subnet{Subnet: netip.MustParsePrefix("10.9.0.0/29"), Gateway: netip.MustParseAddr("10.9.0.1")}
	st := &state{Cursors: map[string]netip.Addr{}}
	lease := func(a netip.Addr) {
		st.Endpoints = append(st.Endpoints, Endpoint{Addrs: []netip.Prefix{netip.PrefixFrom(a, 29)}})
	}
	var got []string
	for i := 0; i < 5; i++ {
		a, err := allocate(st, sub, netip.Addr{})
		if err != nil {
			t.Fatalf("allocation %d: %v", i, err)
		}
		lease(a)
		got = append(got, a.String())
	}
	// .0 is the network, .1 the gateway, .7 the broadcast.
	if strings.Join(got, " ") != "10.9.0.2 10.9.0.3 10.9.0.4 10.9.0.5 10.9.0.6" {
		t.Fatalf("allocations %v", got)
	}
	if _, err := allocate(st, sub, netip.Addr{}); !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("a full subnet: %v, want a conflict", err)
	}
	// Release .3: the next allocation finds it, after wrapping around.
	st.Endpoints = append(st.Endpoints[:1], st.Endpoints[2:]...)
	if a, err := allocate(st, sub, netip.Addr{}); err != nil || a.String() != "10.9.0.3" {
		t.Fatalf("after a release: %v %v", a, err)
	}
}

func TestAllocateDoesNotReuseAJustReleasedAddress(t *testing.T) {
	sub := Subnet{Subnet: netip.MustParsePrefix("10.9.0.0/24"), Gateway: netip.MustParseAddr("10.9.0.1")}
	st := &state{Cursors: map[string]netip.Addr{}}
	a, _ := allocate(st, sub, netip.Addr{})
	// Not leased (released at once): the next one is still a new address.
	b, _ := allocate(st, sub, netip.Addr{})
	if a == b {
		t.Fatalf("a released address was given again at once: %s", a)
	}
}

func TestAllocateRequested(t *testing.T) {
	sub := Subnet{Subnet: netip.MustParsePrefix("fd00:9::/64"), Gateway: netip.MustParseAddr("fd00:9::1")}
	st := &state{Cursors: map[string]netip.Addr{}}
	want := netip.MustParseAddr("fd00:9::77")
	if a, err := allocate(st, sub, want); err != nil || a != want {
		t.Fatalf("requested %s: %v %v", want, a, err)
	}
	st.Endpoints = append(st.Endpoints, Endpoint{Addrs: []netip.Prefix{netip.PrefixFrom(want, 64)}})
	if _, err := allocate(st, sub, want); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("an address in use: %v", err)
	}
	for _, bad := range []string{"fd00:9::1", "fd00:8::5", "fd00:9::"} {
		if _, err := allocate(st, sub, netip.MustParseAddr(bad)); err == nil {
			t.Errorf("requested %s: no error", bad)
		}
	}
}

func TestHostsContent(t *testing.T) {
	got := HostsContent("box", []netip.Addr{netip.MustParseAddr("10.1.0.2")}, []string{"db:192.0.2.1", "v6:fd00::1"}, []string{"10.1.0.3\tweb alias"})
	want := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.0.2\tbox\n192.0.2.1\tdb\nfd00::1\tv6\n10.1.0.3\tweb alias\n"
	if got != want {
		t.Errorf("hosts:\n%s\nwant:\n%s", got, want)
	}
	if got := HostsContent("box", nil, nil, nil); !strings.Contains(got, "127.0.1.1\tbox\n") {
		t.Errorf("hosts without an address: %q", got)
	}
}

func TestHostsOfPeersOnUserNetworksOnly(t *testing.T) {
	p := func(s string) []netip.Prefix { return []netip.Prefix{netip.MustParsePrefix(s)} }
	st := &state{Endpoints: []Endpoint{
		{Container: "a", Name: "a", Network: "app", Addrs: p("10.1.0.2/24")},
		{Container: "b", Name: "b", Network: "app", Aliases: []string{"bee"}, Addrs: p("10.1.0.3/24")},
		{Container: "c", Name: "c", Network: "other", Addrs: p("10.2.0.2/24")},
		{Container: "a", Name: "a", Network: "bridge", Addrs: p("10.77.0.2/16")},
		{Container: "d", Name: "d", Network: "bridge", Addrs: p("10.77.0.3/16")},
	}}
	user := map[string]bool{"app": true, "other": true}
	got := hostsOf(&Sandbox{Container: "a", Hostname: "ahost"}, st, user)
	if !strings.Contains(got, "10.1.0.3\tb bee\n") || !strings.Contains(got, "10.1.0.2\tahost\n") {
		t.Errorf("a's hosts lack b or itself:\n%s", got)
	}
	if strings.Contains(got, "10.2.0.2") || strings.Contains(got, "10.77.0.3") {
		t.Errorf("a's hosts show a container of another network, or of the default one:\n%s", got)
	}
}

func TestResolvConf(t *testing.T) {
	host := "# generated\nnameserver 127.0.0.53\nnameserver 10.0.0.2\nnameserver ::1\nsearch corp.example\noptions edns0\n"
	if got := ResolvConf(host, nil, nil, nil, false); got != "nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n" {
		t.Errorf("derived: %q", got)
	}
	if got := ResolvConf("nameserver 127.0.0.53\n", nil, nil, nil, false); got != "nameserver 8.8.8.8\nnameserver 8.8.4.4\n" {
		t.Errorf("only loopback resolvers: %q", got)
	}
	if got := ResolvConf(host, nil, nil, nil, true); !strings.Contains(got, "nameserver 127.0.0.53\n") {
		t.Errorf("host network drops the host's resolver: %q", got)
	}
	if got := ResolvConf(host, []string{"192.0.2.53"}, []string{"."}, []string{"ndots:2"}, false); got != "nameserver 192.0.2.53\noptions ndots:2\n" {
		t.Errorf("with --dns, --dns-search ., --dns-option: %q", got)
	}
}

func TestParseExtraHost(t *testing.T) {
	for in, want := range map[string]string{"db:10.0.0.1": "db:10.0.0.1", "v6:[fd00::1]": "v6:fd00::1", "v6:fd00::2": "v6:fd00::2"} {
		if got, err := ParseExtraHost(in); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"nocolon", ":10.0.0.1", "db:notanip", "db:host-gateway"} {
		if _, err := ParseExtraHost(bad); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

func TestCreateChoosesFreeSubnetsAndRefusesOverlaps(t *testing.T) {
	s := &Store{Dir: t.TempDir()}
	a, err := s.Create(CreateOptions{Name: "a"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(CreateOptions{Name: "b", IPv6: true})
	if err != nil {
		t.Fatal(err)
	}
	if a.Subnets[0].Subnet.Overlaps(b.Subnets[0].Subnet) || len(b.Subnets) != 2 || !b.Subnets[1].Subnet.Addr().Is6() {
		t.Errorf("subnets %v and %v", a.Subnets, b.Subnets)
	}
	if len(a.Bridge) > 15 || a.Bridge == b.Bridge {
		t.Errorf("bridges %q and %q", a.Bridge, b.Bridge)
	}
	if _, err := s.Create(CreateOptions{Name: "c", Subnet: a.Subnets[0].Subnet}); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("an overlapping subnet: %v", err)
	}
	if _, err := s.Create(CreateOptions{Name: "a"}); err == nil {
		t.Errorf("a name taken: no error")
	}
	for _, bad := range []string{"../x", "none", "host", "container:x", "-a", ""} {
		if _, err := s.Create(CreateOptions{Name: bad}); !errdefs.IsInvalidArgument(err) {
			t.Errorf("name %q: %v", bad, err)
		}
	}
	if _, err := s.Create(CreateOptions{Name: "g", Subnet: netip.MustParsePrefix("10.251.0.0/24"), Gateway: netip.MustParseAddr("10.252.0.1")}); err == nil {
		t.Errorf("a gateway outside its subnet: no error")
	}
	nets, err := s.List()
	if err != nil || len(nets) != 3 || nets[2].Name != DefaultName {
		t.Errorf("list: %v %v, want a, b, bridge", nets, err)
	}
	if n, _, err := s.Inspect(a.ID[:8]); err != nil || n.Name != "a" {
		t.Errorf("inspect by id prefix: %v %v", n, err)
	}
}
