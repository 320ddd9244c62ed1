package firewall

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/google/nftables"
)

// Network is a bridge network whose traffic the firewall NATs and isolates.
type Network struct {
	Bridge  string         // bridge device, e.g. "tincan0"
	Subnets []netip.Prefix // IPv4 and/or IPv6 subnets on the bridge
}

// validate checks n and returns its subnets masked and without duplicates.
func (n Network) validate() ([]netip.Prefix, error) {
	if err := checkIfName(n.Bridge); err != nil {
		return nil, err
	}
	var subs []netip.Prefix
	for _, p := range n.Subnets {
		if !p.IsValid() {
			return nil, fmt.Errorf("invalid subnet %v", p)
		}
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		p = p.Masked()
		if !slices.Contains(subs, p) {
			subs = append(subs, p)
		}
	}
	return subs, nil
}

// checkIfName checks that name can be a Linux interface name.
func checkIfName(name string) error {
	if name == "" || len(name) >= ifNameSize {
		return fmt.Errorf("invalid bridge name %q: want 1 to %d bytes", name, ifNameSize-1)
	}
	for _, r := range name {
		if r <= ' ' || r == '/' || r == ':' || r == 0x7f {
			return fmt.Errorf("invalid bridge name %q", name)
		}
	}
	return nil
}

// AddNetwork creates the table and its base chains when missing and adds a
// network's rules, replacing those the bridge had (so it is idempotent):
//
//   - masquerade of traffic from each subnet leaving through any interface
//     but the bridge (outbound NAT);
//   - masquerade of DNATed connections from each subnet that leave
//     through the bridge (hairpin: a container reaching a published port
//     of itself or of a neighbour through a host address). It matches the
//     source rather than "iifname br": with br_netfilter on, a DNATed
//     packet whose new destination is on the same bridge is bridged, not
//     routed, and postrouting sees no input interface;
//   - isolation: a packet forwarded from the bridge to another tincan
//     bridge is dropped unless its connection was DNATed to a published
//     port. With every network adding its own rule this drops both
//     directions between any two tincan bridges.
//
// Everything is one atomic batch.
func (f *Firewall) AddNetwork(n Network) error {
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	subs, err := n.validate()
	if err != nil {
		return fmt.Errorf("nftables: add network %s: %w", n.Bridge, err)
	}
	c, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: add network %s: %w", n.Bridge, err)
	}
	st, err := readState(c)
	if err != nil {
		return fmt.Errorf("nftables: add network %s: %w", n.Bridge, err)
	}
	set, err := declareTable(c, st)
	if err != nil {
		return fmt.Errorf("nftables: add network %s: %w", n.Bridge, err)
	}
	if err := deleteRules(c, st.tagged(netTag(n.Bridge))); err != nil {
		return fmt.Errorf("nftables: add network %s: %w", n.Bridge, err)
	}
	for _, r := range networkRules(n.Bridge, subs, set) {
		c.AddRule(r)
	}
	if err := c.SetAddElements(set, []nftables.SetElement{{Key: ifname(n.Bridge)}}); err != nil {
		return fmt.Errorf("nftables: add network %s: add to set %s: %w", n.Bridge, bridgeSetName, err)
	}
	if err := flush(c); err != nil {
		return fmt.Errorf("nftables: add network %s: %w", n.Bridge, err)
	}
	return nil
}

// networkRules are the rules of the network on bridge br.
func networkRules(br string, subs []netip.Prefix, set *nftables.Set) []*nftables.Rule {
	tag := netTag(br)
	var rules []*nftables.Rule
	for _, p := range subs {
		// ip[6] saddr p oifname != br masquerade
		rules = append(rules, newRule(chainPostrouting, tag, matchPrefix(p, true), oifname(br, false), masquerade()))
		// ct status dnat ip[6] saddr p oifname br masquerade
		rules = append(rules, newRule(chainPostrouting, tag, ctStatusDNAT(true), matchPrefix(p, true),
			oifname(br, true), masquerade()))
	}
	// iifname br oifname != br oifname @bridges ct status & dnat == 0 drop
	rules = append(rules, newRule(chainForward, tag, iifname(br, true), oifname(br, false),
		oifnameInSet(set.Name, set.ID), ctStatusDNAT(false), drop()))
	return rules
}

// RemoveNetwork removes a bridge's rules and takes it out of the bridge set;
// a bridge without rules is no error. When no network and no port rule
// remain, it deletes the table.
func (f *Firewall) RemoveNetwork(bridge string) error {
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	if err := checkIfName(bridge); err != nil {
		return fmt.Errorf("nftables: remove network %s: %w", bridge, err)
	}
	c, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: remove network %s: %w", bridge, err)
	}
	st, err := readState(c)
	if err != nil {
		return fmt.Errorf("nftables: remove network %s: %w", bridge, err)
	}
	if !st.exists {
		return nil
	}
	rs := st.tagged(netTag(bridge))
	if st.owned(rs) == 0 {
		c.DelTable(table)
	} else {
		set, err := declareTable(c, st)
		if err != nil {
			return fmt.Errorf("nftables: remove network %s: %w", bridge, err)
		}
		if err := deleteRules(c, rs); err != nil {
			return fmt.Errorf("nftables: remove network %s: %w", bridge, err)
		}
		// Deleting an element that is not there fails the batch, and the
		// library cannot tell a missing set from a failed read; adding
		// it first (a no-op when present) makes the delete always valid.
		elem := []nftables.SetElement{{Key: ifname(bridge)}}
		if err := c.SetAddElements(set, elem); err != nil {
			return fmt.Errorf("nftables: remove network %s: %w", bridge, err)
		}
		if err := c.SetDeleteElements(set, elem); err != nil {
			return fmt.Errorf("nftables: remove network %s: %w", bridge, err)
		}
	}
	if err := flush(c); err != nil {
		return fmt.Errorf("nftables: remove network %s: %w", bridge, err)
	}
	return nil
}
