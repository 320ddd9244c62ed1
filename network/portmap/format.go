package portmap

import (
	"net"
	"net/netip"
	"sort"
)

// HostAddrs returns the host side of m as `docker port NAME 80/tcp` prints
// it: "127.0.0.1:8080", "[::1]:8080", or for a mapping on all addresses (zero
// HostIP) the two lines "0.0.0.0:8080" and "[::]:8080". An unresolved host
// range prints as "0.0.0.0:8000-8010" and a random port not yet chosen as
// port 0.
func HostAddrs(m Mapping) []string {
	port := hostPortString(m)
	if port == "" {
		port = "0"
	}
	if !m.HostIP.IsValid() {
		return []string{
			net.JoinHostPort(netip.IPv4Unspecified().String(), port),
			net.JoinHostPort(netip.IPv6Unspecified().String(), port),
		}
	}
	return []string{net.JoinHostPort(m.HostIP.String(), port)}
}

// Format is one line of `docker port`: "80/tcp -> 127.0.0.1:8080". For a
// mapping on all addresses (zero HostIP), for which docker prints two lines,
// it is the first, "80/tcp -> 0.0.0.0:8080"; Lines gives both.
func Format(m Mapping) string {
	return m.Key() + " -> " + HostAddrs(m)[0]
}

// Lines returns the lines of `docker port NAME` for ms: one per host address
// (two for a mapping on all addresses, "0.0.0.0:P" and "[::]:P"), sorted as
// docker sorts them, in natural order (numbers compared by value) of the whole
// line: by container port, then protocol, then host address.
func Lines(ms []Mapping) []string {
	var out []string
	for _, m := range ms {
		k := m.Key()
		for _, a := range HostAddrs(m) {
			out = append(out, k+" -> "+a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return naturalLess(out[i], out[j]) })
	return out
}

// naturalLess orders strings the way docker's CLI sorts `docker port` lines:
// runs of digits compare by numeric value (and sort before any other byte),
// other bytes compare as bytes; on a numeric tie the run with fewer leading
// zeros sorts first.
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da != db {
			return da
		}
		if !da {
			if a[0] != b[0] {
				return a[0] < b[0]
			}
			a, b = a[1:], b[1:]
			continue
		}
		na, ra := digitRun(a)
		nb, rb := digitRun(b)
		za, zb := trimZeros(na), trimZeros(nb)
		if len(za) != len(zb) {
			return len(za) < len(zb)
		}
		if za != zb {
			return za < zb
		}
		if len(na) != len(nb) {
			return len(na) < len(nb)
		}
		a, b = ra, rb
	}
	return len(a) < len(b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// digitRun splits s into its leading run of digits and the rest.
func digitRun(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func trimZeros(s string) string {
	for len(s) > 0 && s[0] == '0' {
		s = s[1:]
	}
	return s
}
