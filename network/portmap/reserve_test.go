package portmap

import (
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

var loopback = netip.MustParseAddr("127.0.0.1")

func addr(ip string, port uint16) string {
	return net.JoinHostPort(ip, strconv.Itoa(int(port)))
}

// canListen reports whether a program could take ip:port/proto now; it
// fails the test on errors other than EADDRINUSE.
func canListen(t *testing.T, proto, ip string, port uint16) bool {
	t.Helper()
	var err error
	if proto == UDP {
		var c net.PacketConn
		if c, err = net.ListenPacket("udp", addr(ip, port)); err == nil {
			c.Close()
			return true
		}
	} else {
		var l net.Listener
		if l, err = net.Listen("tcp", addr(ip, port)); err == nil {
			l.Close()
			return true
		}
	}
	if !errors.Is(err, unix.EADDRINUSE) {
		t.Fatalf("listen %s %s: %v", proto, addr(ip, port), err)
	}
	return false
}

// freePort returns a port the kernel considers free for proto on 127.0.0.1.
func freePort(t *testing.T, proto string) uint16 {
	t.Helper()
	got, r, err := Reserve([]Mapping{{HostIP: loopback, ContainerPort: 1, Protocol: proto}})
	if err != nil {
		t.Fatal(err)
	}
	r.Close()
	return got[0].HostPort
}

func mustReserve(t *testing.T, ms []Mapping) ([]Mapping, *Reservation) {
	t.Helper()
	got, r, err := Reserve(ms)
	if err != nil {
		t.Fatalf("Reserve(%v): %v", ms, err)
	}
	t.Cleanup(func() { r.Close() })
	return got, r
}

func TestReserveHoldsPort(t *testing.T) {
	for _, proto := range []string{TCP, UDP} {
		t.Run(proto, func(t *testing.T) {
			port := freePort(t, proto)
			m := Mapping{HostIP: loopback, HostPort: port, ContainerPort: 80, Protocol: proto}
			got, r := mustReserve(t, []Mapping{m})
			if len(got) != 1 || got[0] != m {
				t.Fatalf("Reserve returned %+v, want %+v", got, m)
			}
			if canListen(t, proto, "127.0.0.1", port) {
				t.Fatalf("%s port %d could be bound while reserved", proto, port)
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if !canListen(t, proto, "127.0.0.1", port) {
				t.Fatalf("%s port %d still in use after Close", proto, port)
			}
			if err := r.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
	var nilR *Reservation
	if err := nilR.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReserveDoesNotListen(t *testing.T) {
	got, _ := mustReserve(t, []Mapping{{HostIP: loopback, ContainerPort: 80}})
	c, err := net.Dial("tcp", addr("127.0.0.1", got[0].HostPort))
	if err == nil {
		c.Close()
		t.Fatal("connected to a reserved port: it is listening")
	}
	if !errors.Is(err, unix.ECONNREFUSED) {
		t.Fatalf("dial: %v, want connection refused", err)
	}
}

func TestReserveRandom(t *testing.T) {
	for _, proto := range []string{TCP, UDP} {
		t.Run(proto, func(t *testing.T) {
			ms, err := ParsePublish("127.0.0.1::80-89/" + proto)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := mustReserve(t, ms)
			seen := make(map[uint16]bool)
			for i, m := range got {
				if m.HostPort == 0 {
					t.Fatalf("mapping %d got host port 0", i)
				}
				if seen[m.HostPort] {
					t.Fatalf("host port %d given twice", m.HostPort)
				}
				seen[m.HostPort] = true
				if m.ContainerPort != ms[i].ContainerPort || m.Protocol != proto || m.HostIP != loopback {
					t.Fatalf("mapping %d changed: %+v from %+v", i, m, ms[i])
				}
				if canListen(t, proto, "127.0.0.1", m.HostPort) {
					t.Fatalf("random port %d is not held", m.HostPort)
				}
			}
		})
	}
}

func TestReserveConflict(t *testing.T) {
	for _, proto := range []string{TCP, UDP} {
		t.Run(proto, func(t *testing.T) {
			first, _ := mustReserve(t, []Mapping{{HostIP: loopback, ContainerPort: 80, Protocol: proto}})
			taken := first[0].HostPort
			free := freePort(t, proto)

			// The free port comes first in ms, so it is bound before the
			// conflict is found and must be released again.
			got, r, err := Reserve([]Mapping{
				{HostIP: loopback, HostPort: free, ContainerPort: 81, Protocol: proto},
				{ContainerPort: 82, Protocol: proto}, // random, bound last
				{HostIP: loopback, HostPort: taken, ContainerPort: 80, Protocol: proto},
			})
			if err == nil {
				r.Close()
				t.Fatalf("second Reserve of port %d succeeded: %+v", taken, got)
			}
			if got != nil || r != nil {
				t.Errorf("Reserve returned %+v, %v with an error", got, r)
			}
			if !errors.Is(err, unix.EADDRINUSE) {
				t.Errorf("error %q is not EADDRINUSE", err)
			}
			if !errors.Is(err, errdefs.ErrConflict) {
				t.Errorf("error %q is not of class conflict", err)
			}
			want := "host port 127.0.0.1:" + strconv.Itoa(int(taken)) + "/" + proto + " is already in use"
			if err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			if !canListen(t, proto, "127.0.0.1", free) {
				t.Errorf("port %d of the failed Reserve is still bound", free)
			}
		})
	}
}

func TestReserveWildcard(t *testing.T) {
	got, r := mustReserve(t, []Mapping{{ContainerPort: 80}, {ContainerPort: 53, Protocol: UDP}})
	ipv6 := !got[0].HostIP.IsValid()
	if !ipv6 && got[0].HostIP != netip.IPv4Unspecified() {
		t.Fatalf("wildcard mapping came back on %v", got[0].HostIP)
	}
	for _, m := range got {
		if m.HostPort == 0 {
			t.Fatalf("no port for %+v", m)
		}
		if canListen(t, m.Protocol, "127.0.0.1", m.HostPort) {
			t.Errorf("%s: 127.0.0.1:%d free under a wildcard reservation", m.Key(), m.HostPort)
		}
		if ipv6 && canListen(t, m.Protocol, "::1", m.HostPort) {
			t.Errorf("%s: [::1]:%d free under a dual-stack reservation", m.Key(), m.HostPort)
		}
	}
	r.Close()
	for _, m := range got {
		if !canListen(t, m.Protocol, "127.0.0.1", m.HostPort) {
			t.Errorf("%s: port %d still held after Close", m.Key(), m.HostPort)
		}
	}
	if !ipv6 {
		t.Log("no IPv6 on this host: the wildcard was IPv4 only")
	}
}

func TestReserveWildcardConflictsWithSpecific(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := uint16(l.Addr().(*net.TCPAddr).Port)
	_, r, err := Reserve([]Mapping{{HostPort: port, ContainerPort: 80}})
	if err == nil {
		r.Close()
		t.Fatalf("wildcard reservation of %d succeeded beside a listener on 127.0.0.1", port)
	}
	if !errors.Is(err, unix.EADDRINUSE) || err.Error() != "host port "+strconv.Itoa(int(port))+"/tcp is already in use" {
		t.Fatalf("error %q", err)
	}
}

func TestReserveIPv6Loopback(t *testing.T) {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	l.Close()
	got, r := mustReserve(t, []Mapping{{HostIP: netip.IPv6Loopback(), ContainerPort: 80}})
	if canListen(t, TCP, "::1", got[0].HostPort) {
		t.Fatal("[::1] port not held")
	}
	// IPV6_V6ONLY: the IPv4 side of the same number is not taken.
	if !canListen(t, TCP, "127.0.0.1", got[0].HostPort) {
		t.Fatal("an [::1] reservation holds 127.0.0.1 too")
	}
	r.Close()
}

func TestReserveRange(t *testing.T) {
	held, _ := mustReserve(t, []Mapping{{HostIP: loopback, ContainerPort: 1}})
	start := held[0].HostPort
	if start > 65000 {
		t.Skipf("random port %d too close to the top", start)
	}
	m := Mapping{HostIP: loopback, HostPort: start, HostPortEnd: start + 20, ContainerPort: 80}
	got, _ := mustReserve(t, []Mapping{m})
	p := got[0].HostPort
	if p <= start || p > start+20 || got[0].HostPortEnd != 0 || got[0].Protocol != TCP {
		t.Fatalf("range %d-%d gave %+v", start, start+20, got[0])
	}
	if canListen(t, TCP, "127.0.0.1", p) {
		t.Fatalf("port %d from the range not held", p)
	}

	// A range with every port taken.
	_, r, err := Reserve([]Mapping{{HostIP: loopback, HostPort: start, HostPortEnd: start, ContainerPort: 80}})
	if err == nil {
		r.Close()
		t.Fatal("reserved a held port")
	}
	if p != start+1 {
		// start+1 was taken by another program: a range of ports all held
		// by this test cannot be built without racing it.
		t.Logf("ports %d-%d in use elsewhere; not testing a full range", start+1, p-1)
		return
	}
	_, r, err = Reserve([]Mapping{{HostIP: loopback, HostPort: start, HostPortEnd: p, ContainerPort: 80}})
	if err == nil {
		r.Close()
		t.Fatal("reserved from a range of held ports")
	}
	want := "every host port in 127.0.0.1:" + strconv.Itoa(int(start)) + "-" + strconv.Itoa(int(p)) + "/tcp is already in use"
	if !errors.Is(err, unix.EADDRINUSE) || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}

func TestReserveFixedBeforeRandom(t *testing.T) {
	// A fixed port listed after random ones is still bound; random picks
	// avoid it.
	fixed := freePort(t, TCP)
	ms := []Mapping{
		{HostIP: loopback, ContainerPort: 1},
		{HostIP: loopback, ContainerPort: 2},
		{HostIP: loopback, HostPort: fixed, ContainerPort: 3},
	}
	got, _ := mustReserve(t, ms)
	if got[2].HostPort != fixed || got[0].HostPort == fixed || got[1].HostPort == fixed {
		t.Fatalf("got %+v", got)
	}
}

func TestReserveDuplicates(t *testing.T) {
	port := freePort(t, TCP)
	other := freePort(t, TCP)
	for _, ms := range [][]Mapping{
		{{HostIP: loopback, HostPort: other, ContainerPort: 1}, {HostIP: loopback, HostPort: port, ContainerPort: 80}, {HostIP: loopback, HostPort: port, ContainerPort: 81}},
		{{HostIP: loopback, HostPort: other, ContainerPort: 1}, {HostIP: loopback, HostPort: port, ContainerPort: 80}, {HostIP: netip.MustParseAddr("::ffff:127.0.0.1"), HostPort: port, ContainerPort: 80, Protocol: "TCP"}},
	} {
		got, r, err := Reserve(ms)
		if err == nil {
			r.Close()
			t.Fatalf("Reserve of a duplicate succeeded: %+v", got)
		}
		want := "host port 127.0.0.1:" + strconv.Itoa(int(port)) + "/tcp is published more than once"
		if err.Error() != want || !errors.Is(err, unix.EADDRINUSE) || !errdefs.IsInvalidArgument(err) {
			t.Fatalf("error %q, want %q", err, want)
		}
		if !canListen(t, TCP, "127.0.0.1", other) || !canListen(t, TCP, "127.0.0.1", port) {
			t.Fatal("a port stayed bound")
		}
	}
	// Same port number, different protocols or IPs: no duplicate.
	got, _ := mustReserve(t, []Mapping{
		{HostIP: loopback, HostPort: port, ContainerPort: 80},
		{HostIP: loopback, HostPort: port, ContainerPort: 80, Protocol: UDP},
	})
	if got[0].HostPort != port || got[1].HostPort != port {
		t.Fatalf("got %+v", got)
	}
}

func TestReserveInvalid(t *testing.T) {
	for _, tt := range []struct {
		m    Mapping
		want string
	}{
		{Mapping{ContainerPort: 80, Protocol: "sctp"}, "protocol sctp is not supported"},
		{Mapping{ContainerPort: 80, Protocol: "icmp"}, `unknown protocol "icmp"`},
		{Mapping{HostPort: 8080}, "container port 0"},
		{Mapping{HostPortEnd: 10, ContainerPort: 80}, "cannot start at 0"},
		{Mapping{HostIP: netip.MustParseAddr("fe80::1%lo"), ContainerPort: 80}, "has a zone"},
	} {
		_, r, err := Reserve([]Mapping{tt.m})
		if err == nil {
			r.Close()
			t.Errorf("Reserve(%+v) succeeded", tt.m)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !errdefs.IsInvalidArgument(err) {
			t.Errorf("Reserve(%+v) error %q, want %q", tt.m, err, tt.want)
		}
	}

	// 192.0.2.1 (TEST-NET-1) is no address of this host.
	_, r, err := Reserve([]Mapping{{HostIP: netip.MustParseAddr("192.0.2.1"), HostPort: 40000, ContainerPort: 80}})
	if err == nil {
		r.Close()
		t.Fatal("bound a foreign address")
	}
	if !errors.Is(err, unix.EADDRNOTAVAIL) || !errdefs.IsInvalidArgument(err) {
		t.Fatalf("error %q", err)
	}
	t.Log(err)
}

func TestReserveCloseOnExec(t *testing.T) {
	_, r := mustReserve(t, []Mapping{{HostIP: loopback, ContainerPort: 80}, {HostIP: loopback, ContainerPort: 80, Protocol: UDP}})
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fds) != 2 {
		t.Fatalf("%d sockets", len(r.fds))
	}
	for _, fd := range r.fds {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		if flags&unix.FD_CLOEXEC == 0 {
			t.Errorf("fd %d is not close-on-exec", fd)
		}
	}
}
