package firewall

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// maxOwnerLen bounds an owner so that its tag fits a rule comment (nft's
// user data is at most 256 bytes).
const maxOwnerLen = 128

// PortRule publishes one container port on the host.
type PortRule struct {
	Owner         string     // container id; kept in the rule's user data so RemovePorts/Owners find it
	Protocol      string     // "tcp" or "udp"
	HostIP        netip.Addr // invalid (zero) value: any local address of the host
	HostPort      uint16
	ContainerIP   netip.Addr // IPv4 or IPv6; the rule applies to that family only
	ContainerPort uint16
}

// check validates r and returns it with its addresses unmapped (an
// IPv4-mapped IPv6 address is its IPv4 address) and its protocol number.
// skip is true for a rule whose HostIP is of the other family than its
// ContainerIP.
func (r PortRule) check() (out PortRule, proto byte, skip bool, err error) {
	switch {
	case r.Owner == "" || len(r.Owner) > maxOwnerLen || strings.ContainsRune(r.Owner, 0):
		return r, 0, false, fmt.Errorf("invalid owner %q", r.Owner)
	case !r.ContainerIP.IsValid():
		return r, 0, false, fmt.Errorf("no container address")
	case r.HostPort == 0 || r.ContainerPort == 0:
		return r, 0, false, fmt.Errorf("invalid port mapping %d -> %d", r.HostPort, r.ContainerPort)
	}
	switch r.Protocol {
	case "tcp":
		proto = unix.IPPROTO_TCP
	case "udp":
		proto = unix.IPPROTO_UDP
	default:
		return r, 0, false, fmt.Errorf("invalid protocol %q: want tcp or udp", r.Protocol)
	}
	r.ContainerIP = r.ContainerIP.Unmap().WithZone("")
	if r.HostIP.IsValid() {
		r.HostIP = r.HostIP.Unmap().WithZone("")
		if r.HostIP.Is4() != r.ContainerIP.Is4() {
			return r, proto, true, nil
		}
	}
	return r, proto, false, nil
}

// portRule is the DNAT rule of r (in chain ports, which prerouting and
// output jump to for packets to a local address):
//
//	meta nfproto F [ip[6] daddr HostIP] meta l4proto P th dport HostPort
//	    dnat ip[6] to ContainerIP:ContainerPort
func portRule(r PortRule, proto byte) *nftables.Rule {
	family := nfproto(r.ContainerIP)
	if r.HostIP.IsValid() {
		family = matchAddr(r.HostIP, false) // includes meta nfproto
	}
	return newRule(chainPorts, portTag(r.Owner), family,
		l4Dport(proto, r.HostPort), dnat(r.ContainerIP, r.ContainerPort))
}

// AddPorts adds DNAT rules for published ports: a packet to a local address
// of the host (fib daddr type local), whether from another host, from a
// container (prerouting) or from the host itself (output, including
// 127.0.0.1: callers set route_localnet=1 on the bridge), that matches a
// rule's protocol, HostPort and (when set) HostIP, goes to ContainerIP:
// ContainerPort. The table's base postrouting rule masquerades such
// connections from 127.0.0.0/8, and each network's hairpin rule those from
// its subnets that leave through its bridge. A rule whose HostIP is of the other
// family than its ContainerIP is skipped. All rules are one atomic batch:
// an invalid rule adds none.
func (f *Firewall) AddPorts(rules []PortRule) error {
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if len(rules) == 0 {
		return nil
	}
	owner := rules[0].Owner
	var add []*nftables.Rule
	for _, r := range rules {
		r, proto, skip, err := r.check()
		if err != nil {
			return fmt.Errorf("nftables: add port rules for %s: %s/%d: %w", owner, r.Protocol, r.HostPort, err)
		}
		if !skip {
			add = append(add, portRule(r, proto))
		}
	}
	if len(add) == 0 {
		return nil
	}
	c, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: add port rules for %s: %w", owner, err)
	}
	st, err := readState(c)
	if err != nil {
		return fmt.Errorf("nftables: add port rules for %s: %w", owner, err)
	}
	if _, err := declareTable(c, st); err != nil {
		return fmt.Errorf("nftables: add port rules for %s: %w", owner, err)
	}
	for _, r := range add {
		c.AddRule(r)
	}
	if err := flush(c); err != nil {
		return fmt.Errorf("nftables: add port rules for %s: %w", owner, err)
	}
	return nil
}

// RemovePorts deletes every rule whose owner is owner; none is no error.
// When no network and no port rule remain, it deletes the table.
func (f *Firewall) RemovePorts(owner string) error {
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	c, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: remove port rules of %s: %w", owner, err)
	}
	st, err := readState(c)
	if err != nil {
		return fmt.Errorf("nftables: remove port rules of %s: %w", owner, err)
	}
	if !st.exists {
		return nil
	}
	rs := st.tagged(portTag(owner))
	switch {
	case st.owned(rs) == 0:
		c.DelTable(table)
	case len(rs) == 0:
		return nil
	default:
		if err := deleteRules(c, rs); err != nil {
			return fmt.Errorf("nftables: remove port rules of %s: %w", owner, err)
		}
	}
	if err := flush(c); err != nil {
		return fmt.Errorf("nftables: remove port rules of %s: %w", owner, err)
	}
	return nil
}
