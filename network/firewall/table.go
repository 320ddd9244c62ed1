package firewall

import (
	"errors"
	"fmt"
	"os"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/google/nftables/userdata"
)

// The table and its chains. Only names, family, hooks and types are used:
// every batch re-declares them (NLM_F_CREATE without NLM_F_EXCL, so an
// existing one is left as it is).
var (
	table = &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}

	chainPrerouting = &nftables.Chain{
		Name: "prerouting", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityNATDest,
	}
	chainOutput = &nftables.Chain{
		Name: "output", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookOutput, Priority: nftables.ChainPriorityNATDest,
	}
	chainPostrouting = &nftables.Chain{
		Name: "postrouting", Table: table, Type: nftables.ChainTypeNAT,
		Hooknum: nftables.ChainHookPostrouting, Priority: nftables.ChainPriorityNATSource,
	}
	chainForward = &nftables.Chain{
		Name: "forward", Table: table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter,
	}
	// chainPorts holds the DNAT rules; prerouting and output jump to it.
	chainPorts = &nftables.Chain{Name: "ports", Table: table}

	// allChains in creation order: ports before the chains that jump to it.
	allChains = []*nftables.Chain{chainPorts, chainPrerouting, chainOutput, chainPostrouting, chainForward}
)

// bridgeSetName is the set of every network's bridge name (type ifname).
const bridgeSetName = "bridges"

// Rule tags (comments).
const (
	baseTag       = "base"
	netTagPrefix  = "net:"
	portTagPrefix = "port:"
)

func netTag(bridge string) string { return netTagPrefix + bridge }
func portTag(owner string) string { return portTagPrefix + owner }

// ruleTag is the comment of r ("" when it has none).
func ruleTag(r *nftables.Rule) string {
	s, _ := userdata.GetString(r.UserData, userdata.TypeComment)
	return s
}

// newRule is a rule of chain c tagged tag.
func newRule(c *nftables.Chain, tag string, exprs ...[]expr.Any) *nftables.Rule {
	var all []expr.Any
	for _, e := range exprs {
		all = append(all, e...)
	}
	return &nftables.Rule{
		Table:    table,
		Chain:    c,
		Exprs:    all,
		UserData: userdata.AppendString(nil, userdata.TypeComment, tag),
	}
}

// state is what the table holds now.
type state struct {
	exists bool
	rules  map[string][]*nftables.Rule // by chain name
}

// all is every rule of every chain.
func (s *state) all() []*nftables.Rule {
	var rs []*nftables.Rule
	for _, c := range allChains {
		rs = append(rs, s.rules[c.Name]...)
	}
	return rs
}

// tagged is every rule whose tag is tag.
func (s *state) tagged(tag string) []*nftables.Rule {
	var rs []*nftables.Rule
	for _, r := range s.all() {
		if ruleTag(r) == tag {
			rs = append(rs, r)
		}
	}
	return rs
}

// hasTag reports whether chain c holds a rule tagged tag.
func (s *state) hasTag(c *nftables.Chain, tag string) bool {
	for _, r := range s.rules[c.Name] {
		if ruleTag(r) == tag {
			return true
		}
	}
	return false
}

// owned counts the rules of networks and published ports, except those in
// skip (rules about to be deleted).
func (s *state) owned(skip []*nftables.Rule) int {
	n := 0
	for _, r := range s.all() {
		if tag := ruleTag(r); tag == baseTag || tag == "" {
			continue
		}
		if containsRule(skip, r) {
			continue
		}
		n++
	}
	return n
}

func containsRule(rs []*nftables.Rule, r *nftables.Rule) bool {
	for _, x := range rs {
		if x.Chain.Name == r.Chain.Name && x.Handle == r.Handle {
			return true
		}
	}
	return false
}

// tableExists reports whether the table is there.
func tableExists(c *nftables.Conn) (bool, error) {
	if _, err := c.ListTableOfFamily(TableName, table.Family); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("get table: %w", err)
	}
	return true, nil
}

// readState reads the table's rules. A missing chain reads as empty (the
// kernel's rule dump of a chain that is not there is empty).
func readState(c *nftables.Conn) (*state, error) {
	st := &state{rules: map[string][]*nftables.Rule{}}
	exists, err := tableExists(c)
	if err != nil || !exists {
		return st, err
	}
	st.exists = true
	for _, ch := range allChains {
		rs, err := c.GetRules(table, ch)
		if err != nil {
			return nil, fmt.Errorf("list rules of chain %s: %w", ch.Name, err)
		}
		for _, r := range rs {
			// The dump's rules name table and chain; make sure DelRule
			// has both whatever the library fills in.
			r.Table, r.Chain = table, ch
		}
		st.rules[ch.Name] = rs
	}
	return st, nil
}

// bridgeSetID names the bridge set within a batch (NFTA_SET_ID), which
// lookups added in the same batch use when the set is new. Batches hold one
// set, so a constant does; it also keeps AddSet off the library's global,
// unsynchronized ID counter.
const bridgeSetID = 1

// bridgeSet is the set of bridge names.
func bridgeSet() *nftables.Set {
	// Interface names are strings, host byte order to nft (without it
	// `nft list` shows the elements reversed, as "").
	return &nftables.Set{Table: table, ID: bridgeSetID, Name: bridgeSetName, KeyType: nftables.TypeIFName,
		KeyByteOrder: binaryutil.NativeEndian}
}

// declareTable queues the table, its chains, the bridge set and whatever
// base rule st lacks. It returns the set (for lookups and elements).
func declareTable(c *nftables.Conn, st *state) (*nftables.Set, error) {
	c.AddTable(table)
	for _, ch := range allChains {
		c.AddChain(ch)
	}
	set := bridgeSet()
	if err := c.AddSet(set, nil); err != nil {
		return nil, fmt.Errorf("declare set %s: %w", bridgeSetName, err)
	}
	for _, ch := range []*nftables.Chain{chainPrerouting, chainOutput} {
		if !st.hasTag(ch, baseTag) {
			// fib daddr type local jump ports
			c.AddRule(newRule(ch, baseTag, fibDaddrLocal(), jump(chainPorts.Name)))
		}
	}
	if !st.hasTag(chainPostrouting, baseTag) {
		// DNATed connections from localhost (route_localnet) need a
		// source the container can answer:
		// meta nfproto ipv4 ct status dnat ip saddr 127.0.0.0/8 masquerade
		c.AddRule(newRule(chainPostrouting, baseTag, ctStatusDNAT(true),
			matchPrefix(loopback4, true), masquerade()))
	}
	return set, nil
}

// deleteRules queues the deletion of rs.
func deleteRules(c *nftables.Conn, rs []*nftables.Rule) error {
	for _, r := range rs {
		if err := c.DelRule(r); err != nil {
			return fmt.Errorf("delete rule %d of chain %s: %w", r.Handle, r.Chain.Name, err)
		}
	}
	return nil
}

// flush sends c's batch.
func flush(c *nftables.Conn) error {
	if err := c.Flush(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
