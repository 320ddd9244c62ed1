// Package portmap parses published ports (-p, -P) as docker does, reserves host ports
// for a container while it runs, and formats them as `docker port` does. It installs no
// forwarding (network/firewall does).
//
// The -p grammar is docker's:
//
//	[[IP:][HOSTPORT]:]CONTAINERPORT[/PROTOCOL]
//
// where IP is everything before the last two colon-separated fields (an IPv6
// address may be bracketed, "[::1]:8080:80", or bare, "::1:8080:80"), either
// port may be a range "A-B", and PROTOCOL is tcp (the default) or udp. A host
// range with a container range publishes pairwise (equal lengths required); a
// host range with a single container port means "the first free host port in
// the range", chosen when the ports are reserved; a missing or empty host port
// means a random one, chosen by the kernel from ip_local_port_range.
package portmap

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/tincan/tincan/errdefs"
)

// Protocols.
const (
	TCP = "tcp"
	UDP = "udp"
)

// Mapping is one published port.
type Mapping struct {
	// HostIP is the host address to publish on. The zero Addr means all
	// addresses of both families (0.0.0.0 and ::); an explicit 0.0.0.0 means
	// IPv4 only and an explicit :: IPv6 only.
	HostIP netip.Addr `json:"hostIP,omitempty"`
	// HostPort is the host port; 0 means a random one, chosen at Reserve.
	HostPort uint16 `json:"hostPort"`
	// HostPortEnd, when above HostPort, makes HostPort-HostPortEnd a range
	// (inclusive) from which Reserve takes the first free port. It is 0 for a
	// single host port and always 0 in the mappings Reserve returns.
	HostPortEnd uint16 `json:"hostPortEnd,omitempty"`
	// ContainerPort is the port inside the container (1-65535).
	ContainerPort uint16 `json:"containerPort"`
	// Protocol is "tcp" or "udp". Reserve treats "" as "tcp"; sctp is not
	// supported.
	Protocol string `json:"protocol"`
}

// Key is the container side of m as docker names it, "80/tcp": the key of
// inspect's Ports map and the filter argument of `tincan port NAME 80/tcp`.
func (m Mapping) Key() string {
	return strconv.Itoa(int(m.ContainerPort)) + "/" + protoOrTCP(m.Protocol)
}

// String returns m as a -p value that ParsePublish parses back into m, such
// as "127.0.0.1:8080:80/tcp", "[::1]::53/udp" or "8000-8010:80/tcp".
func (m Mapping) String() string {
	var b strings.Builder
	host := hostPortString(m)
	if m.HostIP.IsValid() {
		if m.HostIP.Is6() {
			b.WriteString("[" + m.HostIP.String() + "]")
		} else {
			b.WriteString(m.HostIP.String())
		}
		b.WriteString(":" + host + ":")
	} else if host != "" {
		b.WriteString(host + ":")
	}
	b.WriteString(m.Key())
	return b.String()
}

// IsRange reports whether m's host port is a range still to be resolved by
// Reserve.
func (m Mapping) IsRange() bool { return m.HostPortEnd > m.HostPort }

// hostPortString is "8080", "8000-8010", or "" for a random port.
func hostPortString(m Mapping) string {
	switch {
	case m.IsRange():
		return strconv.Itoa(int(m.HostPort)) + "-" + strconv.Itoa(int(m.HostPortEnd))
	case m.HostPort == 0:
		return ""
	default:
		return strconv.Itoa(int(m.HostPort))
	}
}

func protoOrTCP(p string) string {
	if p == "" {
		return TCP
	}
	return p
}

// ParsePublish parses one -p value: "80", "8080:80", "8080:80/udp",
// "127.0.0.1:8080:80", "127.0.0.1::80" (random host port on that IP),
// "[::1]:8080:80" or "::1:8080:80", ranges "8000-8010:80-90" (pairwise, equal
// lengths), "8000-8010:80" (one mapping with HostPort=8000, HostPortEnd=8010:
// the first free port of the range, chosen by Reserve) and "80-90" (random host
// ports for each). The protocol is case-insensitive. Errors are of class
// errdefs.ErrInvalidArgument and read `invalid publish "VALUE": WHY`.
func ParsePublish(s string) ([]Mapping, error) {
	ms, err := parsePublish(s)
	if err != nil {
		return nil, errdefs.InvalidArgument("invalid publish %q: %w", s, err)
	}
	return ms, nil
}

func parsePublish(s string) ([]Mapping, error) {
	if s == "" {
		return nil, errors.New("empty value")
	}
	rest, proto, err := splitProto(s)
	if err != nil {
		return nil, err
	}
	// docker's rule: the last field is the container port, the one before
	// it the host port, and everything before those the IP (which may thus
	// hold colons itself).
	fields := strings.Split(rest, ":")
	n := len(fields)
	containerSpec := fields[n-1]
	var hostSpec, ipSpec string
	if n >= 2 {
		hostSpec = fields[n-2]
	}
	if n >= 3 {
		ipSpec = strings.Join(fields[:n-2], ":")
	}

	var ip netip.Addr
	if ipSpec != "" {
		if ip, err = parseHostIP(ipSpec); err != nil {
			return nil, err
		}
	}
	if containerSpec == "" {
		return nil, errors.New("no container port")
	}
	cStart, cEnd, err := parseRange(containerSpec)
	if err != nil {
		return nil, err
	}
	var hStart, hEnd uint16
	if hostSpec != "" {
		if hStart, hEnd, err = parseRange(hostSpec); err != nil {
			return nil, err
		}
	}

	base := Mapping{HostIP: ip, Protocol: proto}
	switch {
	case hostSpec != "" && cStart == cEnd && hStart != hEnd:
		// One container port, a host range to choose from.
		m := base
		m.HostPort, m.HostPortEnd, m.ContainerPort = hStart, hEnd, cStart
		return []Mapping{m}, nil
	case hostSpec != "" && hEnd-hStart != cEnd-cStart:
		return nil, fmt.Errorf("host range %s and container range %s have different lengths", hostSpec, containerSpec)
	}
	ms := make([]Mapping, 0, int(cEnd-cStart)+1)
	for i := 0; i <= int(cEnd-cStart); i++ {
		m := base
		m.ContainerPort = cStart + uint16(i)
		if hostSpec != "" {
			m.HostPort = hStart + uint16(i)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// ParseExposed turns an image's ExposedPorts ("80/tcp", "53/udp", "8080",
// also ranges "8000-8010/tcp") into mappings with random host ports on all
// addresses, as -P publishes them. Duplicates are dropped; the order is that of
// ports. Errors are of class errdefs.ErrInvalidArgument and read
// `invalid exposed port "VALUE": WHY`.
func ParseExposed(ports []string) ([]Mapping, error) {
	var ms []Mapping
	seen := make(map[string]bool)
	for _, p := range ports {
		got, err := parseExposed(p)
		if err != nil {
			return nil, errdefs.InvalidArgument("invalid exposed port %q: %w", p, err)
		}
		for _, m := range got {
			if k := m.Key(); !seen[k] {
				seen[k] = true
				ms = append(ms, m)
			}
		}
	}
	return ms, nil
}

func parseExposed(s string) ([]Mapping, error) {
	if s == "" {
		return nil, errors.New("empty value")
	}
	port, proto, err := splitProto(s)
	if err != nil {
		return nil, err
	}
	if port == "" {
		return nil, errors.New("no port")
	}
	start, end, err := parseRange(port)
	if err != nil {
		return nil, err
	}
	ms := make([]Mapping, 0, int(end-start)+1)
	for p := int(start); p <= int(end); p++ {
		ms = append(ms, Mapping{ContainerPort: uint16(p), Protocol: proto})
	}
	return ms, nil
}

// NormalizeKey turns a `tincan port` filter, "80" or "80/TCP", into the Key
// form "80/tcp".
func NormalizeKey(s string) (string, error) {
	port, proto, err := splitProto(s)
	if err == nil {
		var p uint16
		if p, err = parsePort(port); err == nil {
			return Mapping{ContainerPort: p, Protocol: proto}.Key(), nil
		}
	}
	return "", errdefs.InvalidArgument("invalid port %q: %w", s, err)
}

// splitProto splits "SPEC/PROTO" into SPEC and the lower-cased protocol,
// which defaults to tcp ("80" and "80/" are both tcp, as with docker).
func splitProto(s string) (string, string, error) {
	spec, proto, found := strings.Cut(s, "/")
	if !found || proto == "" {
		return spec, TCP, nil
	}
	switch p := strings.ToLower(proto); p {
	case TCP, UDP:
		return spec, p, nil
	case "sctp":
		return "", "", errors.New("protocol sctp is not supported")
	default:
		return "", "", fmt.Errorf("unknown protocol %q (want tcp or udp)", proto)
	}
}

// parseHostIP parses the IP part of a -p value, bracketed or not.
func parseHostIP(s string) (netip.Addr, error) {
	raw := s
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		raw = s[1 : len(s)-1]
	}
	ip, err := netip.ParseAddr(raw)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("invalid host IP %q", s)
	}
	if ip.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("host IP %q has a zone, which is not supported", s)
	}
	// An IPv4-mapped IPv6 address is the IPv4 address.
	return ip.Unmap(), nil
}

// parseRange parses "80" or "80-90".
func parseRange(s string) (start, end uint16, err error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if start, err = parsePort(lo); err != nil {
		return 0, 0, err
	}
	if !isRange {
		return start, start, nil
	}
	if end, err = parsePort(hi); err != nil {
		return 0, 0, err
	}
	if end < start {
		return 0, 0, fmt.Errorf("invalid port range %q: end is below start", s)
	}
	return start, end, nil
}

// parsePort parses one port number, 1-65535.
func parsePort(s string) (uint16, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange) {
			return 0, fmt.Errorf("port %s is out of range 1-65535", s)
		}
		return 0, fmt.Errorf("invalid port %q", s)
	}
	if v == 0 || v > 65535 {
		return 0, fmt.Errorf("port %s is out of range 1-65535", s)
	}
	return uint16(v), nil
}
