package network

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"strings"
)

// HostsContent is a container's /etc/hosts: localhost, its own name on
// its addresses (127.0.1.1 without one), the --add-host entries, and, on
// user-defined networks, every other container there by name and alias.
func HostsContent(hostname string, own []netip.Addr, extra []string, peers []string) string {
	var b strings.Builder
	b.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	if len(own) == 0 {
		fmt.Fprintf(&b, "127.0.1.1\t%s\n", hostname)
	}
	for _, a := range own {
		fmt.Fprintf(&b, "%s\t%s\n", a, hostname)
	}
	b.WriteString(ExtraHostsLines(extra))
	for _, p := range peers {
		b.WriteString(p + "\n")
	}
	return b.String()
}

// ExtraHostsLines are /etc/hosts lines for --add-host values (name:ip,
// checked by ParseExtraHost).
func ExtraHostsLines(extra []string) string {
	var b strings.Builder
	for _, e := range extra {
		name, ip, _ := strings.Cut(e, ":")
		fmt.Fprintf(&b, "%s\t%s\n", ip, name)
	}
	return b.String()
}

// ParseExtraHost checks one --add-host value (name:ip).
func ParseExtraHost(v string) (string, error) {
	name, ip, ok := strings.Cut(v, ":")
	if !ok || name == "" {
		return "", fmt.Errorf("invalid --add-host %q: want name:ip", v)
	}
	if ip == "host-gateway" {
		return "", fmt.Errorf("invalid --add-host %q: host-gateway is not supported", v)
	}
	if _, err := netip.ParseAddr(strings.Trim(ip, "[]")); err != nil {
		return "", fmt.Errorf("invalid --add-host %q: %q is not an IP address", v, ip)
	}
	return name + ":" + strings.Trim(ip, "[]"), nil
}

// hostsOf is the /etc/hosts of sandbox sb given every endpoint.
func hostsOf(sb *Sandbox, st *state, userNet map[string]bool) string {
	var own []netip.Addr
	nets := map[string]bool{}
	for _, e := range st.Endpoints {
		if e.Container != sb.Container {
			continue
		}
		nets[e.Network] = true
		if len(own) == 0 {
			// The primary interface's addresses name the container itself.
			for _, a := range e.Addrs {
				own = append(own, a.Addr())
			}
		}
	}
	var peers []string
	for _, e := range st.Endpoints {
		if e.Container == sb.Container || !nets[e.Network] || !userNet[e.Network] {
			continue
		}
		names := append([]string{e.Name}, e.Aliases...)
		for _, a := range e.Addrs {
			peers = append(peers, a.Addr().String()+"\t"+strings.Join(names, " "))
		}
	}
	// Our own aliases, so the container finds itself by them too.
	for _, e := range st.Endpoints {
		if e.Container == sb.Container && userNet[e.Network] && len(e.Aliases) > 0 {
			for _, a := range e.Addrs {
				peers = append(peers, a.Addr().String()+"\t"+strings.Join(e.Aliases, " "))
			}
		}
	}
	return HostsContent(sb.Hostname, own, sb.ExtraHosts, peers)
}

// rewriteHosts brings every sandbox's /etc/hosts up to date. A file is
// rewritten in place (it is bind-mounted into the container, so a rename
// would not be seen) and only when its content changes. Failures are
// ignored: a container may be going away while we write.
func (s *Store) rewriteHosts(st *state) {
	userNet := map[string]bool{}
	all, _ := s.listLocked()
	for _, n := range all {
		userNet[n.Name] = n.UserDefined()
	}
	for i := range st.Sandboxes {
		sb := &st.Sandboxes[i]
		if sb.Hosts == "" {
			continue
		}
		content := []byte(hostsOf(sb, st, userNet))
		if old, err := os.ReadFile(sb.Hosts); err != nil || bytes.Equal(old, content) {
			continue
		}
		f, err := os.OpenFile(sb.Hosts, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			continue
		}
		f.Write(content)
		f.Close()
	}
}
