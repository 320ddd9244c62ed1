package portmap

import (
	"encoding/json"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func tcp(host, ctr uint16) Mapping { return Mapping{HostPort: host, ContainerPort: ctr, Protocol: TCP} }

func onIP(ip string, m Mapping) Mapping {
	m.HostIP = netip.MustParseAddr(ip)
	return m
}

func proto(p string, m Mapping) Mapping {
	m.Protocol = p
	return m
}

func TestParsePublish(t *testing.T) {
	tests := []struct {
		in   string
		want []Mapping
	}{
		{"80", []Mapping{tcp(0, 80)}},
		{"80/tcp", []Mapping{tcp(0, 80)}},
		{"80/", []Mapping{tcp(0, 80)}},
		{"53/udp", []Mapping{proto(UDP, tcp(0, 53))}},
		{"53/UDP", []Mapping{proto(UDP, tcp(0, 53))}},
		{"8080:80", []Mapping{tcp(8080, 80)}},
		{"8080:80/udp", []Mapping{proto(UDP, tcp(8080, 80))}},
		{":80", []Mapping{tcp(0, 80)}},
		{"::80", []Mapping{tcp(0, 80)}},
		{"65535:1", []Mapping{tcp(65535, 1)}},
		{"08080:080", []Mapping{tcp(8080, 80)}},
		{"127.0.0.1:8080:80", []Mapping{onIP("127.0.0.1", tcp(8080, 80))}},
		{"127.0.0.1::80", []Mapping{onIP("127.0.0.1", tcp(0, 80))}},
		{"127.0.0.1::80/udp", []Mapping{onIP("127.0.0.1", proto(UDP, tcp(0, 80)))}},
		{"0.0.0.0:8080:80", []Mapping{onIP("0.0.0.0", tcp(8080, 80))}},
		{"[::1]:8080:80", []Mapping{onIP("::1", tcp(8080, 80))}},
		{"[::1]::80", []Mapping{onIP("::1", tcp(0, 80))}},
		{"::1:8080:80", []Mapping{onIP("::1", tcp(8080, 80))}},
		{"::1::80", []Mapping{onIP("::1", tcp(0, 80))}},
		{"[::]:8080:80", []Mapping{onIP("::", tcp(8080, 80))}},
		{"fd00::2:8080:80/udp", []Mapping{onIP("fd00::2", proto(UDP, tcp(8080, 80)))}},
		{"[::ffff:127.0.0.1]:8080:80", []Mapping{onIP("127.0.0.1", tcp(8080, 80))}},
		{"[127.0.0.1]:8080:80", []Mapping{onIP("127.0.0.1", tcp(8080, 80))}},
		{"8000-8002:80-82", []Mapping{tcp(8000, 80), tcp(8001, 81), tcp(8002, 82)}},
		{"127.0.0.1:8000-8001:80-81/udp", []Mapping{
			onIP("127.0.0.1", proto(UDP, tcp(8000, 80))),
			onIP("127.0.0.1", proto(UDP, tcp(8001, 81))),
		}},
		{"8000-8010:80", []Mapping{{HostPort: 8000, HostPortEnd: 8010, ContainerPort: 80, Protocol: TCP}}},
		{"[::1]:8000-8010:80/udp", []Mapping{{HostIP: netip.MustParseAddr("::1"), HostPort: 8000, HostPortEnd: 8010, ContainerPort: 80, Protocol: UDP}}},
		{"8000-8000:80", []Mapping{tcp(8000, 80)}},
		{"80-82", []Mapping{tcp(0, 80), tcp(0, 81), tcp(0, 82)}},
		{"127.0.0.1::80-81", []Mapping{onIP("127.0.0.1", tcp(0, 80)), onIP("127.0.0.1", tcp(0, 81))}},
		{"80-80", []Mapping{tcp(0, 80)}},
		{"1-65535", nil}, // length checked below
	}
	for _, tt := range tests {
		got, err := ParsePublish(tt.in)
		if err != nil {
			t.Errorf("ParsePublish(%q): %v", tt.in, err)
			continue
		}
		if tt.in == "1-65535" {
			if len(got) != 65535 || got[0].ContainerPort != 1 || got[65534].ContainerPort != 65535 {
				t.Errorf("ParsePublish(%q): %d mappings", tt.in, len(got))
			}
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParsePublish(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
		}
	}
}

func TestParsePublishErrors(t *testing.T) {
	tests := []struct{ in, why string }{
		{"", "empty value"},
		{"8080:", "no container port"},
		{"127.0.0.1:8080:", "no container port"},
		{"/tcp", "no container port"},
		{"abc", `invalid port "abc"`},
		{"8080:abc", `invalid port "abc"`},
		{"abc:80", `invalid port "abc"`},
		{"1.2.3.4:80", `invalid port "1.2.3.4"`},
		{" 80", `invalid port " 80"`},
		{"+80", `invalid port "+80"`},
		{"-80", `invalid port ""`},
		{"80-", `invalid port ""`},
		{"80-90-100", `invalid port "90-100"`},
		{"0", "port 0 is out of range 1-65535"},
		{"0:80", "port 0 is out of range 1-65535"},
		{"8080:0", "port 0 is out of range 1-65535"},
		{"65536", "port 65536 is out of range 1-65535"},
		{"65536:80", "port 65536 is out of range 1-65535"},
		{"99999999999999999999999", "port 99999999999999999999999 is out of range 1-65535"},
		{"0-10", "port 0 is out of range 1-65535"},
		{"10-70000", "port 70000 is out of range 1-65535"},
		{"90-80", `invalid port range "90-80": end is below start`},
		{"8010-8000:80", `invalid port range "8010-8000": end is below start`},
		{"8000-8009:80-90", "host range 8000-8009 and container range 80-90 have different lengths"},
		{"8000:80-90", "host range 8000 and container range 80-90 have different lengths"},
		{"1.2.3:8080:80", `invalid host IP "1.2.3"`},
		{"localhost:8080:80", `invalid host IP "localhost"`},
		{"[::1:8080:80", `invalid host IP "[::1"`},
		{"[]:8080:80", `invalid host IP "[]"`},
		{"::1:80", `invalid host IP ":"`},
		{"fe80::1%eth0:8080:80", `host IP "fe80::1%eth0" has a zone, which is not supported`},
		{"80/sctp", "protocol sctp is not supported"},
		{"8080:80/SCTP", "protocol sctp is not supported"},
		{"80/icmp", `unknown protocol "icmp" (want tcp or udp)`},
		{"80/tcp/udp", `unknown protocol "tcp/udp" (want tcp or udp)`},
	}
	for _, tt := range tests {
		got, err := ParsePublish(tt.in)
		if err == nil {
			t.Errorf("ParsePublish(%q) = %+v, want error %q", tt.in, got, tt.why)
			continue
		}
		want := `invalid publish "` + tt.in + `": ` + tt.why
		if tt.in == "" {
			want = `invalid publish "": ` + tt.why
		}
		if err.Error() != want {
			t.Errorf("ParsePublish(%q) error\n got %q\nwant %q", tt.in, err, want)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("ParsePublish(%q): error is not one line: %q", tt.in, err)
		}
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParsePublish(%q): error %q is not of class invalid argument", tt.in, err)
		}
	}
}

func TestParseExposed(t *testing.T) {
	got, err := ParseExposed([]string{"80/tcp", "53/udp", "8080", "80", "53/tcp", "9000-9002/udp", "9001/udp"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Mapping{
		tcp(0, 80), proto(UDP, tcp(0, 53)), tcp(0, 8080), tcp(0, 53),
		proto(UDP, tcp(0, 9000)), proto(UDP, tcp(0, 9001)), proto(UDP, tcp(0, 9002)),
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseExposed\n got %+v\nwant %+v", got, want)
	}

	if got, err := ParseExposed(nil); err != nil || len(got) != 0 {
		t.Errorf("ParseExposed(nil) = %v, %v", got, err)
	}

	for _, tt := range []struct{ in, want string }{
		{"", `invalid exposed port "": empty value`},
		{"/tcp", `invalid exposed port "/tcp": no port`},
		{"0/tcp", `invalid exposed port "0/tcp": port 0 is out of range 1-65535`},
		{"http", `invalid exposed port "http": invalid port "http"`},
		{"8080:80", `invalid exposed port "8080:80": invalid port "8080:80"`},
		{"132/sctp", `invalid exposed port "132/sctp": protocol sctp is not supported`},
		{"80/foo", `invalid exposed port "80/foo": unknown protocol "foo" (want tcp or udp)`},
		{"90-80", `invalid exposed port "90-80": invalid port range "90-80": end is below start`},
	} {
		_, err := ParseExposed([]string{"80/tcp", tt.in})
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseExposed(%q) error = %v, want %q", tt.in, err, tt.want)
		} else if !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParseExposed(%q): error not of class invalid argument", tt.in)
		}
	}
}

func TestKeyAndNormalizeKey(t *testing.T) {
	if k := tcp(8080, 80).Key(); k != "80/tcp" {
		t.Errorf("Key = %q", k)
	}
	if k := (Mapping{ContainerPort: 53}).Key(); k != "53/tcp" {
		t.Errorf("Key with empty protocol = %q", k)
	}
	if k := proto(UDP, tcp(0, 53)).Key(); k != "53/udp" {
		t.Errorf("Key = %q", k)
	}
	for in, want := range map[string]string{"80": "80/tcp", "80/tcp": "80/tcp", "53/UDP": "53/udp"} {
		if got, err := NormalizeKey(in); err != nil || got != want {
			t.Errorf("NormalizeKey(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "80/sctp", "x/tcp", "80-90"} {
		if got, err := NormalizeKey(in); err == nil {
			t.Errorf("NormalizeKey(%q) = %q, want error", in, got)
		}
	}
}

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		"80":                   "80/tcp",
		"8080:80/udp":          "8080:80/udp",
		"127.0.0.1::80":        "127.0.0.1::80/tcp",
		"::1:8080:80":          "[::1]:8080:80/tcp",
		"8000-8010:80":         "8000-8010:80/tcp",
		"[::]:8000-8010:80":    "[::]:8000-8010:80/tcp",
		"0.0.0.0:8080:80/UDP":  "0.0.0.0:8080:80/udp",
		"[fd00::2]::53/udp":    "[fd00::2]::53/udp",
		"10.0.0.1:1-2:3-4/tcp": "", // two mappings, checked by round trip only
	} {
		ms, err := ParsePublish(in)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if want != "" && m.String() != want {
				t.Errorf("String of %q = %q, want %q", in, m.String(), want)
			}
			back, err := ParsePublish(m.String())
			if err != nil || len(back) != 1 || back[0] != m {
				t.Errorf("ParsePublish(%q) = %+v, %v; want %+v", m.String(), back, err, m)
			}
		}
	}
}

func TestJSON(t *testing.T) {
	for _, m := range []Mapping{
		tcp(8080, 80),
		onIP("::1", proto(UDP, tcp(0, 53))),
		{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8000, HostPortEnd: 8010, ContainerPort: 80, Protocol: TCP},
	} {
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Mapping
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if back != m {
			t.Errorf("JSON round trip of %+v via %s gave %+v", m, b, back)
		}
	}
}

func TestFormatAndLines(t *testing.T) {
	ranged := Mapping{HostPort: 8000, HostPortEnd: 8010, ContainerPort: 80, Protocol: TCP}
	for _, tt := range []struct {
		m    Mapping
		want string
	}{
		{tcp(8080, 80), "80/tcp -> 0.0.0.0:8080"},
		{onIP("127.0.0.1", tcp(8080, 80)), "80/tcp -> 127.0.0.1:8080"},
		{onIP("::1", proto(UDP, tcp(5353, 53))), "53/udp -> [::1]:5353"},
		{onIP("::", tcp(8080, 80)), "80/tcp -> [::]:8080"},
		{onIP("0.0.0.0", tcp(8080, 80)), "80/tcp -> 0.0.0.0:8080"},
		{ranged, "80/tcp -> 0.0.0.0:8000-8010"},
		{tcp(0, 80), "80/tcp -> 0.0.0.0:0"},
	} {
		if got := Format(tt.m); got != tt.want {
			t.Errorf("Format(%+v) = %q, want %q", tt.m, got, tt.want)
		}
	}
	if got, want := HostAddrs(tcp(8080, 80)), []string{"0.0.0.0:8080", "[::]:8080"}; !reflect.DeepEqual(got, want) {
		t.Errorf("HostAddrs = %q, want %q", got, want)
	}

	ms := []Mapping{
		onIP("127.0.0.1", proto(UDP, tcp(9000, 53))),
		tcp(49153, 443),
		onIP("::1", tcp(9999, 80)),
		tcp(8080, 80),
		proto(UDP, tcp(5353, 53)),
		onIP("10.0.0.1", tcp(1234, 80)),
		onIP("9.0.0.1", tcp(1234, 80)),
		tcp(7000, 7),
		onIP("127.0.0.1", tcp(5300, 53)),
	}
	want := []string{
		"7/tcp -> 0.0.0.0:7000",
		"7/tcp -> [::]:7000",
		"53/tcp -> 127.0.0.1:5300",
		"53/udp -> 0.0.0.0:5353",
		"53/udp -> 127.0.0.1:9000",
		"53/udp -> [::]:5353",
		"80/tcp -> 0.0.0.0:8080",
		"80/tcp -> 9.0.0.1:1234",
		"80/tcp -> 10.0.0.1:1234",
		"80/tcp -> [::1]:9999",
		"80/tcp -> [::]:8080",
		"443/tcp -> 0.0.0.0:49153",
		"443/tcp -> [::]:49153",
	}
	if got := Lines(ms); !reflect.DeepEqual(got, want) {
		t.Errorf("Lines\n got %q\nwant %q", got, want)
	}
	if got := Lines(nil); len(got) != 0 {
		t.Errorf("Lines(nil) = %q", got)
	}
}

func TestNaturalLess(t *testing.T) {
	ordered := []string{"", "0", "00", "1", "2", "9", "10", "010", "11", "100", "a", "a1", "a2", "a10", "ab", "b"}
	for i := range ordered {
		for j := range ordered {
			if got, want := naturalLess(ordered[i], ordered[j]), i < j; got != want {
				t.Errorf("naturalLess(%q, %q) = %v, want %v", ordered[i], ordered[j], got, want)
			}
		}
	}
}

func FuzzParsePublish(f *testing.F) {
	for _, s := range []string{
		"80", "8080:80", "8080:80/udp", "127.0.0.1:8080:80", "127.0.0.1::80", "[::1]:8080:80",
		"::1:8080:80", "8000-8010:80-90", "8000-8010:80", "80-90", "80/sctp", "90-80", "0",
		"65536", "[::ffff:1.2.3.4]:1:2/TCP", "fe80::1%eth0:1:2", "80/", "::80", "a:b:c:d",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ms, err := ParsePublish(s)
		if err != nil {
			if ms != nil {
				t.Errorf("ParsePublish(%q) returned mappings with error %v", s, err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "invalid publish ") || strings.Contains(msg, "\n") {
				t.Errorf("ParsePublish(%q): bad error %q", s, msg)
			}
			return
		}
		if len(ms) == 0 {
			t.Fatalf("ParsePublish(%q): no mappings and no error", s)
		}
		for _, m := range ms {
			if m.ContainerPort == 0 {
				t.Errorf("ParsePublish(%q): container port 0 in %+v", s, m)
			}
			if m.Protocol != TCP && m.Protocol != UDP {
				t.Errorf("ParsePublish(%q): protocol %q", s, m.Protocol)
			}
			if m.HostPortEnd != 0 && (m.HostPort == 0 || m.HostPortEnd <= m.HostPort) {
				t.Errorf("ParsePublish(%q): bad host range in %+v", s, m)
			}
			if m.HostIP.IsValid() && (m.HostIP.Zone() != "" || m.HostIP.Is4In6()) {
				t.Errorf("ParsePublish(%q): host IP %v not normalized", s, m.HostIP)
			}
			// The canonical form parses back to the same mapping.
			back, err := ParsePublish(m.String())
			if err != nil || len(back) != 1 || back[0] != m {
				t.Errorf("ParsePublish(%q) gave %+v, whose String %q parses to %+v, %v", s, m, m.String(), back, err)
			}
			if f := Format(m); !strings.HasPrefix(f, m.Key()+" -> ") {
				t.Errorf("Format(%+v) = %q", m, f)
			}
		}
	})
}
