package engine

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/network"
	"github.com/tincan/tincan/network/portmap"
)

// Network modes besides a network's name.
const (
	NetworkBridge = "bridge"
	NetworkNone   = "none"
	NetworkHost   = "host"
	NetworkPasta  = "pasta"
)

// Networks is the store's network store. The default network is made from
// TINCAN_BRIDGE_NAME, TINCAN_BRIDGE_SUBNET, TINCAN_BRIDGE_SUBNET6 (or
// TINCAN_BRIDGE_IPV6=1) and TINCAN_BRIDGE_MTU the first time it is used.
func (s *Store) Networks() *network.Store {
	d := network.DefaultConfig{Bridge: os.Getenv("TINCAN_BRIDGE_NAME"), IPv6: os.Getenv("TINCAN_BRIDGE_IPV6") == "1"}
	d.Subnet, _ = netip.ParsePrefix(os.Getenv("TINCAN_BRIDGE_SUBNET"))
	d.Subnet6, _ = netip.ParsePrefix(os.Getenv("TINCAN_BRIDGE_SUBNET6"))
	d.MTU, _ = strconv.Atoi(os.Getenv("TINCAN_BRIDGE_MTU"))
	return &network.Store{Dir: filepath.Join(s.Data, "networks"), NetNSDir: filepath.Join(s.Run, "netns"), Default: d}
}

// bridgeEnv are the variables the monitor keeps from the CLI's
// environment: the default network's configuration.
var bridgeEnv = []string{"TINCAN_BRIDGE_NAME", "TINCAN_BRIDGE_SUBNET", "TINCAN_BRIDGE_SUBNET6", "TINCAN_BRIDGE_IPV6", "TINCAN_BRIDGE_MTU"}

// netnsPath is where a container's network namespace file lives while it
// runs on a bridge network or shares another container's.
func (s *Store) netnsPath(id string) string { return filepath.Join(s.Run, "netns", id) }

// NetworkFlags are run's network flags as typed.
type NetworkFlags struct {
	// Networks are --network values (repeatable: several bridge networks).
	Networks []string
	// IP, IP6, MAC and Aliases apply to the first network.
	IP, IP6, MAC string
	Aliases      []string
	Publish      []string
	PublishAll   bool
	DNS          []string
	DNSSearch    []string
	DNSOptions   []string
	AddHosts     []string
}

// Apply checks the flags and sets c's network fields. Conflicts fail as
// docker's do ("conflicting options").
func (f NetworkFlags) Apply(c *RunConfig) error {
	mode := defaultNetworkMode()
	if len(f.Networks) > 0 {
		mode = f.Networks[0]
	}
	c.Network = mode
	bridged := mode != NetworkNone && mode != NetworkHost && mode != NetworkPasta && !strings.HasPrefix(mode, "container:")
	if strings.HasPrefix(mode, "container:") && strings.TrimPrefix(mode, "container:") == "" {
		return errdefs.InvalidArgument("--network container: needs a container name")
	}
	if len(f.Networks) > 1 {
		for _, n := range f.Networks[1:] {
			if !bridged || n == NetworkNone || n == NetworkHost || n == NetworkPasta || strings.HasPrefix(n, "container:") {
				return errdefs.InvalidArgument("conflicting options: --network %s cannot be combined with --network %s", f.Networks[0], n)
			}
		}
	}
	switch {
	case !bridged && (f.IP != "" || f.IP6 != "" || f.MAC != "" || len(f.Aliases) > 0):
		return errdefs.InvalidArgument("conflicting options: --ip, --ip6, --mac-address and --network-alias need a bridge network, not --network %s", mode)
	case (mode == NetworkNone || mode == NetworkHost || strings.HasPrefix(mode, "container:")) && (len(f.Publish) > 0 || f.PublishAll):
		return errdefs.InvalidArgument("conflicting options: ports cannot be published with --network %s", mode)
	case strings.HasPrefix(mode, "container:") && (len(f.DNS) > 0 || len(f.DNSSearch) > 0 || len(f.DNSOptions) > 0 || len(f.AddHosts) > 0):
		return errdefs.InvalidArgument("conflicting options: --dns, --dns-search, --dns-option and --add-host cannot be used with --network %s", mode)
	case mode == NetworkPasta && os.Geteuid() == 0:
		return errdefs.InvalidArgument("--network pasta is for rootless containers (root's run on bridge networks)")
	case mode == NetworkBridge && len(f.Aliases) > 0:
		return errdefs.InvalidArgument("--network-alias is supported only for containers in user-defined networks")
	}
	if bridged {
		c.Network = NetworkBridge
		names := f.Networks
		if len(names) == 0 {
			names = []string{NetworkBridge}
		}
		for i, n := range names {
			if n == NetworkBridge {
				n = network.DefaultName
			} else if err := network.ValidName(n); err != nil {
				return err
			}
			c.Networks = append(c.Networks, network.Attachment{Network: n})
			if i > 0 {
				continue
			}
			a := &c.Networks[0]
			a.Aliases, a.MAC = f.Aliases, f.MAC
			for _, v := range []struct {
				flag, val string
				dst       *netip.Addr
				v4        bool
			}{{"--ip", f.IP, &a.IPv4, true}, {"--ip6", f.IP6, &a.IPv6, false}} {
				if v.val == "" {
					continue
				}
				ip, err := netip.ParseAddr(v.val)
				if err != nil || ip.Is4() != v.v4 {
					return errdefs.InvalidArgument("invalid %s %q", v.flag, v.val)
				}
				*v.dst = ip
			}
		}
	}
	for _, p := range f.Publish {
		ms, err := portmap.ParsePublish(p)
		if err != nil {
			return errdefs.InvalidArgument("%v", err)
		}
		c.Publish = append(c.Publish, ms...)
	}
	c.PublishAll = f.PublishAll
	for _, d := range f.DNS {
		if _, err := netip.ParseAddr(d); err != nil {
			return errdefs.InvalidArgument("invalid --dns %q: not an IP address", d)
		}
	}
	c.DNS, c.DNSSearch, c.DNSOptions = f.DNS, f.DNSSearch, f.DNSOptions
	for _, h := range f.AddHosts {
		v, err := network.ParseExtraHost(h)
		if err != nil {
			return errdefs.InvalidArgument("%v", err)
		}
		c.ExtraHosts = append(c.ExtraHosts, v)
	}
	return nil
}

// defaultNetworkMode is docker's for root (the default bridge) and
// podman's for rootless callers (pasta).
func defaultNetworkMode() string {
	if os.Geteuid() != 0 {
		return NetworkPasta
	}
	return NetworkBridge
}

// usesSandbox reports whether the container's network namespace is a
// file of the network store (bridge networks, container:NAME).
func usesSandbox(c *RunConfig) bool {
	return c.Network == NetworkBridge || strings.HasPrefix(c.Network, "container:")
}

// NetworkSettings are a running container's addresses and published
// ports, as inspect and `tincan port` show them.
type NetworkSettings struct {
	SandboxKey string             `json:"sandboxKey,omitempty"`
	Ports      []portmap.Mapping  `json:"ports,omitempty"`
	Endpoints  []network.Endpoint `json:"endpoints,omitempty"`
}

// portsToPublish are -p's mappings and, with -P, the image's exposed
// ports not already published.
func portsToPublish(c *RunConfig) ([]portmap.Mapping, error) {
	ms := append([]portmap.Mapping(nil), c.Publish...)
	if !c.PublishAll {
		return ms, nil
	}
	exposed, err := portmap.ParseExposed(c.ExposedPorts)
	if err != nil {
		return nil, err
	}
	done := map[string]bool{}
	for _, m := range ms {
		done[m.Key()] = true
	}
	for _, m := range exposed {
		if !done[m.Key()] {
			ms = append(ms, m)
		}
	}
	return ms, nil
}

// setUpNetwork gives a starting container its network: the namespace
// file, endpoints and published ports of a bridge network (host ports
// held by the monitor until the container exits), or another container's
// namespace. It returns what to undo when the container exits.
func (m *monitor) setUpNetwork() error {
	c := &m.rec.Config
	if !usesSandbox(c) {
		return nil
	}
	owner, err := network.Self()
	if err != nil {
		return err
	}
	nets := m.s.Networks()
	bundle := filepath.Join(m.s.ContainerDir(m.rec.ID), "bundle")
	req := network.Request{Container: m.rec.ID, Name: m.rec.Name, Hostname: hostnameOf(m.rec),
		NetNS: m.s.netnsPath(m.rec.ID), Networks: c.Networks, Hosts: filepath.Join(bundle, "hosts"),
		ExtraHosts: c.ExtraHosts, Owner: owner}
	if ref, ok := strings.CutPrefix(c.Network, "container:"); ok {
		target, err := m.s.Find(ref)
		if err != nil {
			return err
		}
		if m.s.LiveState(target) != StateRunning || target.Pid == 0 {
			return errdefs.NotRunning("cannot join the network of container %s: it is not running", target.Name)
		}
		req.Hosts = ""
		if err := nets.Share(req, fmt.Sprintf("/proc/%d/ns/net", target.Pid)); err != nil {
			return err
		}
		m.netUp = true
		return nil
	}
	ports, err := portsToPublish(c)
	if err != nil {
		return err
	}
	ports, res, err := portmap.Reserve(ports)
	if err != nil {
		return err
	}
	req.Ports = ports
	eps, err := nets.Attach(req)
	if err != nil {
		res.Close()
		return err
	}
	m.ports, m.netUp = res, true
	m.rec.Network = &NetworkSettings{SandboxKey: req.NetNS, Ports: ports, Endpoints: eps}
	return nil
}

// tearDownNetwork undoes setUpNetwork (and what a dead monitor left).
func (m *monitor) tearDownNetwork() {
	if m.netUp {
		m.s.Networks().Detach(m.rec.ID)
		m.netUp = false
	}
	if m.ports != nil {
		m.ports.Close()
		m.ports = nil
	}
}

// hostnameOf is the container's hostname (its short id by default).
func hostnameOf(rec *Record) string {
	if rec.Config.Hostname != "" {
		return rec.Config.Hostname
	}
	return rec.ShortID()
}

// resolveNetworks checks that c's networks exist (defining the default one
// on first use) and records each by name, so that a run naming a missing
// network fails before anything is made.
func (s *Store) resolveNetworks(c *RunConfig) error {
	if c.Network != NetworkBridge {
		return nil
	}
	nets := s.Networks()
	seen := map[string]bool{}
	for i := range c.Networks {
		n, _, err := nets.Inspect(c.Networks[i].Network)
		if err != nil {
			return err
		}
		if seen[n.Name] {
			return errdefs.InvalidArgument("network %s given twice", n.Name)
		}
		seen[n.Name] = true
		if len(c.Networks[i].Aliases) > 0 && !n.UserDefined() {
			return errdefs.InvalidArgument("--network-alias is supported only for containers in user-defined networks")
		}
		c.Networks[i].Network = n.Name
	}
	return nil
}
