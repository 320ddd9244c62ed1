// Package firewall owns tincan's nftables rules: one table, "inet tincan"
// (TableName), and never reads or changes any other table. Callers
// need not serialize changes: each takes a host-wide lock, since several
// tincan stores (root's, tests') may share the host's table.
//
// The table holds five chains and one set:
//
//	prerouting   nat, hook prerouting, priority dstnat (-100):
//	             fib daddr type local jump ports
//	output       nat, hook output, priority -100:
//	             fib daddr type local jump ports
//	ports        regular chain: one DNAT rule per published port
//	             (comment "port:<owner>")
//	postrouting  nat, hook postrouting, priority srcnat (100):
//	             ct status dnat ip saddr 127.0.0.0/8 masquerade (base),
//	             per network, for each subnet S of bridge B:
//	             ip[6] saddr S oifname != B masquerade (outbound NAT) and
//	             ct status dnat ip[6] saddr S oifname B masquerade (hairpin)
//	forward      filter, hook forward, priority 0: per network
//	             iifname B oifname != B oifname @bridges
//	             ct status & dnat == 0 drop (isolation; connections DNATed
//	             to published ports are exempt)
//	@bridges     set of ifname: every bridge of a network
//
// Every rule carries a comment (nft's user data TLV) naming what added it:
// "base" for the rules that come with the chains, "net:<bridge>" for a
// network's and "port:<owner>" for a published port's. Owners and the
// Remove methods find rules by it. Every change is one atomic batch.
package firewall

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

// TableName is the name of tincan's table (family inet).
const TableName = "tincan"

// Firewall changes the rules of one network namespace. Changes to the
// host's table are serialized across processes by lockPath.
type Firewall struct {
	// netnsFd is the network namespace to change; 0 means that of the
	// calling thread (which, for New's callers, is the process's).
	netnsFd int
}

// New returns the firewall of the calling process's network namespace.
func New() (*Firewall, error) {
	return &Firewall{}, nil
}

// NewAt returns the firewall of the network namespace open at netnsFd. The
// fd must stay open as long as the Firewall is used; the Firewall does not
// close it.
func NewAt(netnsFd int) (*Firewall, error) {
	if netnsFd <= 0 {
		return nil, fmt.Errorf("nftables: invalid network namespace fd %d", netnsFd)
	}
	return &Firewall{netnsFd: netnsFd}, nil
}

// conn returns a fresh connection for one operation, so that a batch given
// up half-built never leaks into the next Flush.
func (f *Firewall) conn() (*nftables.Conn, error) {
	var opts []nftables.ConnOption
	if f.netnsFd > 0 {
		opts = append(opts, nftables.WithNetNSFd(f.netnsFd))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	return c, nil
}

// Owners lists the bridges with network rules and the owners with port
// rules (for the crash sweep), each sorted and without duplicates. No table:
// both empty.
func (f *Firewall) Owners() (bridges, portOwners []string, err error) {
	c, err := f.conn()
	if err != nil {
		return nil, nil, fmt.Errorf("nftables: list owners: %w", err)
	}
	st, err := readState(c)
	if err != nil {
		return nil, nil, fmt.Errorf("nftables: list owners: %w", err)
	}
	for _, r := range st.all() {
		tag := ruleTag(r)
		if b, ok := strings.CutPrefix(tag, netTagPrefix); ok {
			bridges = append(bridges, b)
		} else if o, ok := strings.CutPrefix(tag, portTagPrefix); ok {
			portOwners = append(portOwners, o)
		}
	}
	slices.Sort(bridges)
	slices.Sort(portOwners)
	return slices.Compact(bridges), slices.Compact(portOwners), nil
}

// Delete removes the whole table (tincan network prune, tests). A missing
// table is no error.
func (f *Firewall) Delete() error {
	unlock, err := f.lock()
	if err != nil {
		return err
	}
	defer unlock()
	c, err := f.conn()
	if err != nil {
		return fmt.Errorf("nftables: delete table %s: %w", TableName, err)
	}
	exists, err := tableExists(c)
	if err != nil {
		return fmt.Errorf("nftables: delete table %s: %w", TableName, err)
	}
	if !exists {
		return nil
	}
	c.DelTable(table)
	if err := c.Flush(); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("nftables: delete table %s: %w", TableName, err)
	}
	return nil
}

// lockPath is the host-wide lock of changes to the host's table: each
// change reads the table (to find its rules, or to see whether it may
// delete the table) before its batch, and two processes interleaving
// there could delete rules the other just added.
const lockPath = "/run/lock/tincan-firewall.lock"

// lock takes lockPath for a change of the host's table (a private
// namespace's, NewAt, needs none); the returned function releases it.
func (f *Firewall) lock() (func(), error) {
	if f.netnsFd > 0 {
		return func() {}, nil
	}
	path := lockPath
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		path = "/run/tincan-firewall.lock"
	}
	fd, err := unix.Open(path, unix.O_CREAT|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("nftables: open lock %s: %w", path, err)
	}
	for {
		err = unix.Flock(fd, unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("nftables: lock %s: %w", path, err)
	}
	return func() { unix.Close(fd) }, nil
}
