package network

import (
	"net/netip"
	"strings"
)

// fallbackDNS are used when the host has only loopback resolvers (a local
// caching resolver the container cannot reach), as docker does.
var fallbackDNS = []string{"8.8.8.8", "8.8.4.4"}

// ResolvConf derives a container's /etc/resolv.conf from the host's: its
// nameservers without loopback ones (127.0.0.0/8, ::1: unreachable from
// another network namespace), its search and options lines; --dns,
// --dns-search and --dns-option replace the host's values. With
// hostNetwork the host's loopback resolvers are kept (they are reachable).
func ResolvConf(host string, dns, search, options []string, hostNetwork bool) string {
	var servers, hostSearch, hostOptions []string
	for _, line := range strings.Split(host, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") || strings.HasPrefix(f[0], ";") {
			continue
		}
		switch f[0] {
		case "nameserver":
			a, err := netip.ParseAddr(strings.Split(f[1], "%")[0])
			if err == nil && a.IsLoopback() && !hostNetwork {
				continue
			}
			servers = append(servers, f[1])
		case "search", "domain":
			hostSearch = f[1:]
		case "options":
			hostOptions = append(hostOptions, f[1:]...)
		}
	}
	if len(dns) > 0 {
		servers = dns
	} else if len(servers) == 0 {
		servers = fallbackDNS
	}
	if len(search) > 0 {
		hostSearch = search
		if len(search) == 1 && search[0] == "." {
			hostSearch = nil
		}
	}
	if len(options) > 0 {
		hostOptions = options
	}
	var b strings.Builder
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(hostSearch) > 0 {
		b.WriteString("search " + strings.Join(hostSearch, " ") + "\n")
	}
	if len(hostOptions) > 0 {
		b.WriteString("options " + strings.Join(hostOptions, " ") + "\n")
	}
	return b.String()
}
