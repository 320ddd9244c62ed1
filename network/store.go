package network

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// Store is one user's networks.
type Store struct {
	// Dir holds the definitions, the state and the lock.
	Dir string
	// NetNSDir holds the containers' network namespace files (on the
	// runtime root, so they go with a reboot).
	NetNSDir string
	// Default is how the default network is made the first time it is
	// used.
	Default DefaultConfig
}

// DefaultConfig configures the default network.
type DefaultConfig struct {
	// Bridge is the device name (default tincan0).
	Bridge string
	// Subnet is its IPv4 subnet (default 10.77.0.0/16).
	Subnet netip.Prefix
	// Subnet6 enables IPv6 with this subnet (IPv6 enables it with
	// fd74:6e63::/64).
	Subnet6 netip.Prefix
	IPv6    bool
	// MTU is the bridge's (default: the MTU of the host's default route
	// interface, else 1500).
	MTU int
}

// Defaults of the default network and of user networks' subnets.
var (
	defaultBridge  = "tincan0"
	defaultSubnet  = netip.MustParsePrefix("10.77.0.0/16")
	defaultSubnet6 = netip.MustParsePrefix("fd74:6e63::/64")
	// User networks get the first free /24 from here.
	userPool = netip.MustParsePrefix("10.78.0.0/15")
)

// lock takes the store's lock; the returned function releases it.
func (s *Store) lock() (func(), error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", s.Dir, err)
	}
	path := filepath.Join(s.Dir, "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

func newID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// CreateOptions are `network create`'s flags.
type CreateOptions struct {
	Name string
	// Subnet and Gateway: zero values choose them.
	Subnet  netip.Prefix
	Gateway netip.Addr
	// IPv6 adds an IPv6 subnet (Subnet6, or a random ULA /64).
	IPv6    bool
	Subnet6 netip.Prefix
	MTU     int
	Labels  map[string]string
}

// Create defines a user network; its bridge is made when a container
// first joins it.
func (s *Store) Create(o CreateOptions) (*Network, error) {
	if err := ValidName(o.Name); err != nil {
		return nil, err
	}
	if o.Name == DefaultName {
		return nil, errdefs.AlreadyExists("network with name %s already exists (the default network)", o.Name)
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := s.load(o.Name); err == nil {
		return nil, errdefs.AlreadyExists("network with name %s already exists", o.Name)
	}
	all, err := s.listLocked()
	if err != nil {
		return nil, err
	}
	id := newID()
	n := &Network{Name: o.Name, ID: id, Driver: "bridge", Bridge: "tc-" + id[:12],
		IPv6: o.IPv6 || o.Subnet6.IsValid(), MTU: o.MTU, Labels: o.Labels,
		Created: time.Now().UTC()}
	v4, err := pickSubnet(o.Subnet, o.Gateway, all, userPool)
	if err != nil {
		return nil, err
	}
	n.Subnets = append(n.Subnets, v4)
	if n.IPv6 {
		p := o.Subnet6
		if !p.IsValid() {
			p = netip.PrefixFrom(netip.AddrFrom16([16]byte{0xfd, 0x74, 0x6e, 0x63, b(id, 0), b(id, 1), b(id, 2), b(id, 3)}), 64)
		}
		v6, err := pickSubnet(p, netip.Addr{}, all, netip.Prefix{})
		if err != nil {
			return nil, err
		}
		n.Subnets = append(n.Subnets, v6)
	}
	if n.MTU == 0 {
		n.MTU = hostMTU()
	}
	if err := s.saveDefinition(n); err != nil {
		return nil, err
	}
	return n, nil
}

// b is byte i of a hex id.
func b(id string, i int) byte {
	v, _ := hex.DecodeString(id[2*i : 2*i+2])
	return v[0]
}

// pickSubnet checks a requested subnet (and gateway), or finds a free /24
// in pool. A subnet overlapping another network's, or an address of the
// host, is refused.
func pickSubnet(want netip.Prefix, gw netip.Addr, all []*Network, pool netip.Prefix) (Subnet, error) {
	if want.IsValid() {
		want = want.Masked()
		if want.Bits() > want.Addr().BitLen()-2 {
			return Subnet{}, errdefs.InvalidArgument("subnet %s is too small", want)
		}
		if other := overlapping(want, all); other != "" {
			return Subnet{}, errdefs.Conflict("subnet %s overlaps network %s", want, other)
		}
		if host := hostOverlap(want, all); host != "" {
			return Subnet{}, errdefs.Conflict("subnet %s overlaps the host's address %s", want, host)
		}
		if gw.IsValid() && (!want.Contains(gw) || gw == want.Addr()) {
			return Subnet{}, errdefs.InvalidArgument("gateway %s is not a host address in subnet %s", gw, want)
		}
		if !gw.IsValid() {
			gw = want.Addr().Next()
		}
		return Subnet{Subnet: want, Gateway: gw}, nil
	}
	if gw.IsValid() {
		return Subnet{}, errdefs.InvalidArgument("--gateway %s needs --subnet", gw)
	}
	base := pool.Addr().As4()
	for i := 0; i < 1<<(24-pool.Bits()); i++ {
		a := base
		a[1] += byte(i >> 8)
		a[2] = byte(i)
		p := netip.PrefixFrom(netip.AddrFrom4(a), 24)
		if overlapping(p, all) == "" && hostOverlap(p, all) == "" {
			return Subnet{Subnet: p, Gateway: p.Addr().Next()}, nil
		}
	}
	return Subnet{}, errdefs.Conflict("no free subnet left in %s: give --subnet", pool)
}

func overlapping(p netip.Prefix, all []*Network) string {
	for _, n := range all {
		for _, s := range n.Subnets {
			if s.Subnet.Overlaps(p) {
				return n.Name
			}
		}
	}
	return ""
}

// hostOverlap names a host interface address inside p (the bridges of
// all, and tincan0, excepted: their addresses are networks' gateways).
func hostOverlap(p netip.Prefix, all []*Network) string {
	ours := map[string]bool{defaultBridge: true}
	for _, n := range all {
		ours[n.Bridge] = true
	}
	ifs, _ := net.Interfaces()
	for _, ifc := range ifs {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip, _ := netip.AddrFromSlice(ipn.IP)
			ones, _ := ipn.Mask.Size()
			hp := netip.PrefixFrom(ip.Unmap(), ones)
			if hp.Overlaps(p) && !ours[ifc.Name] {
				return hp.String() + " on " + ifc.Name
			}
		}
	}
	return ""
}

// hostMTU is the MTU of the interface of the host's default route.
func hostMTU() int {
	data, err := os.ReadFile("/proc/net/route")
	if err == nil {
		for _, line := range splitLines(string(data))[1:] {
			var ifname, dst string
			if _, err := fmt.Sscan(line, &ifname, &dst); err == nil && dst == "00000000" {
				if ifc, err := net.InterfaceByName(ifname); err == nil && ifc.MTU > 0 {
					return ifc.MTU
				}
			}
		}
	}
	return 1500
}

// ensureDefaultLocked returns the default network, defining it from
// s.Default the first time.
func (s *Store) ensureDefaultLocked() (*Network, error) {
	n, err := s.load(DefaultName)
	if err == nil || !errdefs.IsNotFound(err) {
		return n, err
	}
	d := s.Default
	n = &Network{Name: DefaultName, ID: newID(), Driver: "bridge", Bridge: d.Bridge, MTU: d.MTU,
		IPv6: d.IPv6 || d.Subnet6.IsValid(), Created: time.Now().UTC()}
	if n.Bridge == "" {
		n.Bridge = defaultBridge
	}
	if n.MTU == 0 {
		n.MTU = hostMTU()
	}
	subnet := d.Subnet
	if !subnet.IsValid() {
		subnet = defaultSubnet
	}
	all, err := s.listLocked()
	if err != nil {
		return nil, err
	}
	// n itself (no subnets yet) so that its own bridge's address is not
	// taken for the host's.
	all = append(all, n)
	v4, err := pickSubnet(subnet, netip.Addr{}, all, netip.Prefix{})
	if err != nil {
		return nil, fmt.Errorf("default network: %w", err)
	}
	n.Subnets = append(n.Subnets, v4)
	if n.IPv6 {
		p := d.Subnet6
		if !p.IsValid() {
			p = defaultSubnet6
		}
		v6, err := pickSubnet(p, netip.Addr{}, all, netip.Prefix{})
		if err != nil {
			return nil, fmt.Errorf("default network: %w", err)
		}
		n.Subnets = append(n.Subnets, v6)
	}
	if err := s.saveDefinition(n); err != nil {
		return nil, err
	}
	return n, nil
}

// List returns every network (the default one included, defined if it
// was not yet).
func (s *Store) List() ([]*Network, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := s.ensureDefaultLocked(); err != nil {
		return nil, err
	}
	return s.listLocked()
}

// Inspect returns a network and its live endpoints.
func (s *Store) Inspect(ref string) (*Network, []Endpoint, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	n, err := s.findLocked(ref)
	if err != nil {
		return nil, nil, err
	}
	st, err := s.loadState()
	if err != nil {
		return nil, nil, err
	}
	var eps []Endpoint
	for _, e := range st.Endpoints {
		if e.Network == n.Name {
			eps = append(eps, e)
		}
	}
	return n, eps, nil
}

// Remove deletes a user network that no container is attached to, with
// its bridge and firewall rules. inUse names the containers whose
// configuration still uses the network (stopped ones included).
func (s *Store) Remove(ref string, inUse func(network string) []string) (*Network, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	n, err := s.findLocked(ref)
	if err != nil {
		return nil, err
	}
	if n.Name == DefaultName {
		return nil, errdefs.Conflict("bridge is a pre-defined network and cannot be removed")
	}
	st, err := s.loadState()
	if err != nil {
		return nil, err
	}
	var users []string
	for _, e := range st.Endpoints {
		if e.Network == n.Name {
			users = append(users, e.Name)
		}
	}
	if inUse != nil {
		users = append(users, inUse(n.Name)...)
	}
	if len(users) > 0 {
		return nil, errdefs.Conflict("network %s has active endpoints (%s)", n.Name, joinUnique(users))
	}
	if err := s.teardownNetwork(n); err != nil {
		return nil, err
	}
	if err := os.Remove(s.definitionPath(n.Name)); err != nil {
		return nil, fmt.Errorf("remove network %s: %w", n.Name, err)
	}
	return n, nil
}

// state is state.json.
type state struct {
	// Sandboxes are the containers with a network namespace of ours.
	Sandboxes []Sandbox `json:"sandboxes"`
	// Endpoints are the addresses in use (the IPAM's leases).
	Endpoints []Endpoint `json:"endpoints"`
	// Cursors are the last address given per subnet: the next allocation
	// starts after it, so an address just released is not reused at once.
	Cursors map[string]netip.Addr `json:"cursors,omitempty"`
}

func (s *Store) loadState() (*state, error) {
	st := &state{Cursors: map[string]netip.Addr{}}
	data, err := os.ReadFile(filepath.Join(s.Dir, "state.json"))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read network state: %w", err)
	}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("read network state %s: %w", filepath.Join(s.Dir, "state.json"), err)
	}
	if st.Cursors == nil {
		st.Cursors = map[string]netip.Addr{}
	}
	return st, nil
}

func (s *Store) saveState(st *state) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(s.Dir, "state.json")
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		return fmt.Errorf("save network state: %w", err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("save network state: %w", err)
	}
	return nil
}

func splitLines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

// joinUnique joins names, each once, in order.
func joinUnique(names []string) string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return strings.Join(out, ", ")
}
