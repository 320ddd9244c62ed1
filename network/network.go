// Package network owns tincan's networks: their definitions (the default
// "bridge" network on tincan0 and user-defined bridge networks), the
// addresses given to containers (a persistent, lock-protected IPAM), the
// containers' endpoints on them, the /etc/hosts by which containers on a
// user-defined network find each other, and the crash sweep that removes
// what a dead container left.
//
// It composes three lower packages and owns none of their mechanisms:
// network/link (namespaces, bridges, veths, sysctls), network/firewall
// (the nftables table "inet tincan": NAT, published ports, isolation) and
// network/portmap (the -p grammar and host port reservations, which the
// caller holds). It knows nothing of container records: callers name a
// container by id and say which process owns its endpoints.
//
// On disk, under Store.Dir:
//
//	<name>.json     one network's definition
//	state.json      every endpoint (the leases) and the IPAM cursors
//	lock            flock held by every change (definitions, endpoints,
//	                firewall, devices), so parallel runs never race
package network

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/tincan/tincan/errdefs"
)

// DefaultName is the default network: docker's "bridge".
const DefaultName = "bridge"

// Network is one bridge network's definition.
type Network struct {
	// Name is how users name it (--network NAME).
	Name string `json:"name"`
	// ID is 64 hex digits; the bridge of a user network is named after it.
	ID string `json:"id"`
	// Driver is always "bridge".
	Driver string `json:"driver"`
	// Bridge is the bridge device (tincan0 for the default network).
	Bridge string `json:"bridge"`
	// Subnets are the IPv4 subnet and, with IPv6, an IPv6 one.
	Subnets []Subnet `json:"subnets"`
	// IPv6 says whether containers also get an IPv6 address.
	IPv6 bool `json:"ipv6,omitempty"`
	// MTU of the bridge and of every container interface on it.
	MTU int `json:"mtu"`
	// Labels are the user's (--label).
	Labels  map[string]string `json:"labels,omitempty"`
	Created time.Time         `json:"created"`
}

// Subnet is one address range of a network and its gateway (the bridge's
// address in it).
type Subnet struct {
	Subnet  netip.Prefix `json:"subnet"`
	Gateway netip.Addr   `json:"gateway"`
}

// UserDefined reports whether n was made with `network create`: only
// containers on those find each other by name, as in docker.
func (n *Network) UserDefined() bool { return n.Name != DefaultName }

// ShortID is the 12-digit id docker shows.
func (n *Network) ShortID() string { return n.ID[:12] }

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// reserved are the --network values that are not networks.
var reserved = map[string]bool{"none": true, "host": true, "default": true, "pasta": true, "slirp4netns": true}

// ValidName checks a network name.
func ValidName(name string) error {
	if !namePattern.MatchString(name) || len(name) > 64 {
		return errdefs.InvalidArgument("invalid network name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 64)", name)
	}
	if reserved[name] || strings.HasPrefix(name, "container:") {
		return errdefs.InvalidArgument("network name %q is reserved", name)
	}
	return nil
}

func (s *Store) definitionPath(name string) string { return filepath.Join(s.Dir, name+".json") }

// load reads one definition; a missing one is NotFound.
func (s *Store) load(name string) (*Network, error) {
	data, err := os.ReadFile(s.definitionPath(name))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errdefs.NotFound("network %s not found", name)
		}
		return nil, fmt.Errorf("read network %s: %w", name, err)
	}
	var n Network
	if err := json.Unmarshal(data, &n); err != nil {
		return nil, fmt.Errorf("read network %s: %w", name, err)
	}
	return &n, nil
}

func (s *Store) saveDefinition(n *Network) error {
	data, err := json.MarshalIndent(n, "", "  ")
	if err != nil {
		return err
	}
	tmp := s.definitionPath(n.Name) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return fmt.Errorf("save network %s: %w", n.Name, err)
	}
	if err := os.Rename(tmp, s.definitionPath(n.Name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("save network %s: %w", n.Name, err)
	}
	return nil
}

// listLocked reads every definition, sorted by name.
func (s *Store) listLocked() ([]*Network, error) {
	entries, err := os.ReadDir(s.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var out []*Network
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || name == "state" {
			continue
		}
		n, err := s.load(name)
		if err != nil {
			if errdefs.IsNotFound(err) {
				continue
			}
			return nil, err
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// findLocked resolves a name, a full id or a unique id prefix.
func (s *Store) findLocked(ref string) (*Network, error) {
	if ref == "" {
		return nil, errdefs.InvalidArgument("empty network name")
	}
	if namePattern.MatchString(ref) {
		if n, err := s.load(ref); err == nil || !errdefs.IsNotFound(err) {
			return n, err
		}
	}
	if ref == DefaultName {
		return s.ensureDefaultLocked()
	}
	all, err := s.listLocked()
	if err != nil {
		return nil, err
	}
	var found *Network
	for _, n := range all {
		if strings.HasPrefix(n.ID, ref) {
			if found != nil {
				return nil, errdefs.InvalidArgument("network id prefix %q is ambiguous", ref)
			}
			found = n
		}
	}
	if found == nil {
		return nil, errdefs.NotFound("network %s not found", ref)
	}
	return found, nil
}
