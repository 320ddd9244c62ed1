package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/procfs"
	"github.com/tincan/tincan/network/firewall"
	"github.com/tincan/tincan/network/link"
	"github.com/tincan/tincan/network/portmap"
)

// Owner is the process whose life bounds a container's endpoints (the
// container's monitor): when it is gone, the sweep reclaims them.
type Owner struct {
	Pid       int    `json:"pid"`
	StartTime uint64 `json:"startTime"`
}

// Self is the calling process as an Owner.
func Self() (Owner, error) {
	pid := os.Getpid()
	st, err := procfs.ReadStat(pid)
	if err != nil {
		return Owner{}, err
	}
	return Owner{Pid: pid, StartTime: st.StartTime}, nil
}

func (o Owner) alive() bool { return procfs.Alive(o.Pid, o.StartTime) }

// Endpoint is one container's interface on one network: the lease of its
// addresses.
type Endpoint struct {
	Container string   `json:"container"`
	Name      string   `json:"name"`
	Aliases   []string `json:"aliases,omitempty"`
	Network   string   `json:"network"`
	// IfName is the interface in the container (eth0, eth1 ...), HostIf
	// the veth's host end.
	IfName   string         `json:"ifName"`
	HostIf   string         `json:"hostIf"`
	Addrs    []netip.Prefix `json:"addrs"`
	Gateways []netip.Addr   `json:"gateways,omitempty"`
	MAC      string         `json:"mac"`
}

// Sandbox is a container's network namespace file and what lives in it.
type Sandbox struct {
	Container string `json:"container"`
	Name      string `json:"name"`
	NetNS     string `json:"netns"`
	// Hosts is the container's /etc/hosts on the host, rewritten in place
	// (it is bind-mounted) as peers come and go.
	Hosts      string   `json:"hosts,omitempty"`
	Hostname   string   `json:"hostname,omitempty"`
	ExtraHosts []string `json:"extraHosts,omitempty"`
	Owner      Owner    `json:"owner"`
	// Ports are the published ports (their firewall rules are tagged with
	// Container).
	Ports []portmap.Mapping `json:"ports,omitempty"`
}

// Request is a container joining its networks when it starts.
type Request struct {
	Container, Name, Hostname string
	// NetNS is where the container's network namespace file is made.
	NetNS string
	// Networks: the first is the primary one (default route, ports).
	Networks []Attachment
	// Ports are published on the primary network's addresses; the caller
	// has reserved their host ports (portmap.Reserve).
	Ports      []portmap.Mapping
	Hosts      string
	ExtraHosts []string
	Owner      Owner
}

// Attachment is one network of a container.
type Attachment struct {
	Network string   `json:"network"`
	Aliases []string `json:"aliases,omitempty"`
	// IPv4 and IPv6 request addresses (--ip, --ip6); zero: allocated.
	IPv4 netip.Addr `json:"ipv4,omitempty"`
	IPv6 netip.Addr `json:"ipv6,omitempty"`
	// MAC requests a MAC address (--mac-address).
	MAC string `json:"mac,omitempty"`
}

// Attach makes the container's network namespace at r.NetNS and joins it
// to its networks, publishes its ports and updates the /etc/hosts of the
// containers that can now see it. On failure nothing of it remains.
func (s *Store) Attach(r Request) (eps []Endpoint, err error) {
	if len(r.Networks) == 0 {
		return nil, errdefs.InvalidArgument("no network to attach %s to", r.Name)
	}
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return nil, err
	}
	env, err := s.openHost()
	if err != nil {
		return nil, err
	}
	defer env.close()
	s.sweepLocked(st, env, false)
	for _, sb := range st.Sandboxes {
		if sb.Container == r.Container {
			return nil, errdefs.Conflict("container %s is already attached to its networks", r.Name)
		}
	}
	if err := link.CreateNetNS(r.NetNS); err != nil {
		return nil, fmt.Errorf("network namespace of %s: %w", r.Name, err)
	}
	sb := Sandbox{Container: r.Container, Name: r.Name, NetNS: r.NetNS, Hosts: r.Hosts, Hostname: r.Hostname,
		ExtraHosts: r.ExtraHosts, Owner: r.Owner}
	defer func() {
		if err != nil {
			st.Endpoints = slices.DeleteFunc(st.Endpoints, func(e Endpoint) bool { return e.Container == r.Container })
			var names []string
			for _, e := range eps {
				env.host.RemoveEndpoint(e.HostIf)
			}
			for _, a := range r.Networks {
				names = append(names, a.Network)
			}
			env.fw.RemovePorts(r.Container)
			link.RemoveNetNS(r.NetNS)
			s.downIfUnused(st, env, names...)
		}
	}()
	for i, a := range r.Networks {
		e, err := s.attachOne(st, env, &sb, a, i)
		if err != nil {
			return eps, err
		}
		eps = append(eps, e)
		st.Endpoints = append(st.Endpoints, e)
	}
	if len(r.Ports) > 0 {
		if err := env.fw.AddPorts(portRules(r.Container, r.Ports, eps[0])); err != nil {
			return eps, fmt.Errorf("publish ports of %s: %w", r.Name, err)
		}
		sb.Ports = r.Ports
	}
	st.Sandboxes = append(st.Sandboxes, sb)
	if err := s.saveState(st); err != nil {
		return eps, err
	}
	s.rewriteHosts(st)
	return eps, nil
}

// attachOne gives the sandbox an interface on network a (eth<index>).
func (s *Store) attachOne(st *state, env *hostEnv, sb *Sandbox, a Attachment, index int) (Endpoint, error) {
	n, err := s.findLocked(a.Network)
	if err != nil {
		return Endpoint{}, err
	}
	for _, e := range st.Endpoints {
		if e.Container == sb.Container && e.Network == n.Name {
			return Endpoint{}, errdefs.Conflict("container %s is already connected to network %s", sb.Name, n.Name)
		}
	}
	if err := s.ensureUp(env, n); err != nil {
		return Endpoint{}, err
	}
	e := Endpoint{Container: sb.Container, Name: sb.Name, Aliases: a.Aliases, Network: n.Name,
		IfName: "eth" + strconv.Itoa(index), HostIf: hostIfName(sb.Container, index)}
	for _, sub := range n.Subnets {
		want := a.IPv4
		if sub.Subnet.Addr().Is6() {
			want = a.IPv6
		}
		addr, err := allocate(st, sub, want)
		if err != nil {
			return Endpoint{}, fmt.Errorf("network %s: %w", n.Name, err)
		}
		e.Addrs = append(e.Addrs, netip.PrefixFrom(addr, sub.Subnet.Bits()))
		if index == 0 {
			e.Gateways = append(e.Gateways, sub.Gateway)
		}
	}
	var mac net.HardwareAddr
	if a.MAC != "" {
		if mac, err = net.ParseMAC(a.MAC); err != nil {
			return Endpoint{}, errdefs.InvalidArgument("invalid MAC address %q", a.MAC)
		}
	}
	mac, err = env.host.AddEndpoint(link.Endpoint{Bridge: n.Bridge, HostName: e.HostIf, NetNS: sb.NetNS,
		Name: e.IfName, MTU: n.MTU, MAC: mac, Addrs: e.Addrs, Gateways: e.Gateways})
	if err != nil {
		return Endpoint{}, fmt.Errorf("connect %s to network %s: %w", sb.Name, n.Name, err)
	}
	e.MAC = mac.String()
	return e, nil
}

// hostIfName is the veth host end of a container's interface index.
func hostIfName(container string, index int) string {
	return vethPrefix + container[:10] + strconv.Itoa(index)
}

// vethPrefix starts the name of every host end of tincan's veths.
const vethPrefix = "tcv"

// ensureUp makes a network's bridge and firewall rules and turns on
// forwarding.
func (s *Store) ensureUp(env *hostEnv, n *Network) error {
	if env.up[n.Name] {
		return nil
	}
	b := link.Bridge{Name: n.Bridge, MTU: n.MTU}
	fn := firewall.Network{Bridge: n.Bridge}
	for _, sub := range n.Subnets {
		b.Addrs = append(b.Addrs, netip.PrefixFrom(sub.Gateway, sub.Subnet.Bits()))
		fn.Subnets = append(fn.Subnets, sub.Subnet)
	}
	if err := env.host.EnsureBridge(b); err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	if err := env.fw.AddNetwork(fn); err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	if _, err := env.host.EnableForwarding(true, n.IPv6); err != nil {
		return fmt.Errorf("network %s: %w", n.Name, err)
	}
	env.up[n.Name] = true
	return nil
}

// allocate leases an address of sub: want if given (it must be free and
// a host address of sub), else the next free one after the subnet's
// cursor.
func allocate(st *state, sub Subnet, want netip.Addr) (netip.Addr, error) {
	used := map[netip.Addr]bool{sub.Gateway: true}
	for _, e := range st.Endpoints {
		for _, a := range e.Addrs {
			used[a.Addr()] = true
		}
	}
	p := sub.Subnet
	last := lastAddr(p)
	if want.IsValid() {
		switch {
		case !p.Contains(want) || want == p.Addr() || (want.Is4() && want == last):
			return netip.Addr{}, errdefs.InvalidArgument("address %s is not a host address of subnet %s", want, p)
		case used[want]:
			return netip.Addr{}, errdefs.Conflict("address %s is already in use", want)
		}
		return want, nil
	}
	key := p.String()
	start := st.Cursors[key]
	if !start.IsValid() || !p.Contains(start) {
		start = p.Addr()
	}
	a := start
	// Bounded: at most the first 1<<16 addresses after the cursor are
	// tried (a /16 is the largest pool a default needs).
	for i := 0; i < 1<<16; i++ {
		a = a.Next()
		if !a.IsValid() || !p.Contains(a) || (a.Is4() && a == last) {
			a = p.Addr()
			continue
		}
		if !used[a] {
			st.Cursors[key] = a
			return a, nil
		}
	}
	return netip.Addr{}, errdefs.Conflict("no free address left in subnet %s", p)
}

// lastAddr is the highest address of p (IPv4's broadcast).
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// portRules are the firewall rules publishing ports on e's addresses.
func portRules(container string, ports []portmap.Mapping, e Endpoint) []firewall.PortRule {
	var rules []firewall.PortRule
	for _, m := range ports {
		for _, a := range e.Addrs {
			if m.HostIP.IsValid() && m.HostIP.Is4() != a.Addr().Is4() {
				continue
			}
			rules = append(rules, firewall.PortRule{Owner: container, Protocol: m.Protocol, HostIP: m.HostIP,
				HostPort: m.HostPort, ContainerIP: a.Addr(), ContainerPort: m.ContainerPort})
		}
	}
	return rules
}

// Detach removes everything of a container's networking: its endpoints
// (and leases), port rules and namespace file; peers' /etc/hosts lose
// it. A container with nothing attached is fine.
func (s *Store) Detach(container string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return err
	}
	env, err := s.openHost()
	if err != nil {
		return err
	}
	defer env.close()
	err = s.detachLocked(st, env, container)
	if serr := s.saveState(st); err == nil {
		err = serr
	}
	s.rewriteHosts(st)
	return err
}

// detachLocked tears down a container's sandbox and drops it from st.
func (s *Store) detachLocked(st *state, env *hostEnv, container string) error {
	var errs []error
	var left []string
	st.Endpoints = slices.DeleteFunc(st.Endpoints, func(e Endpoint) bool {
		if e.Container != container {
			return false
		}
		errs = append(errs, env.host.RemoveEndpoint(e.HostIf))
		left = append(left, e.Network)
		return true
	})
	errs = append(errs, s.downIfUnused(st, env, left...))
	errs = append(errs, env.fw.RemovePorts(container))
	st.Sandboxes = slices.DeleteFunc(st.Sandboxes, func(sb Sandbox) bool {
		if sb.Container != container {
			return false
		}
		errs = append(errs, link.RemoveNetNS(sb.NetNS))
		return true
	})
	return errors.Join(errs...)
}

// downIfUnused removes the bridge and firewall rules of each network no
// endpoint uses any more, as netavark does: a host without running
// containers keeps no device or rule of ours. The next container to join
// makes them again.
func (s *Store) downIfUnused(st *state, env *hostEnv, networks ...string) error {
	var errs []error
	for _, name := range networks {
		if slices.ContainsFunc(st.Endpoints, func(e Endpoint) bool { return e.Network == name }) {
			continue
		}
		n, err := s.load(name)
		if err != nil {
			continue // removed meanwhile: its teardown ran then
		}
		errs = append(errs, teardown(env, n))
		delete(env.up, name)
	}
	return errors.Join(errs...)
}

// teardown removes a network's bridge and firewall rules.
func teardown(env *hostEnv, n *Network) error {
	return errors.Join(env.fw.RemoveNetwork(n.Bridge), env.host.DeleteBridge(n.Bridge))
}

// hostEnv is the host's devices and firewall, opened once per change.
type hostEnv struct {
	host *link.Host
	fw   *firewall.Firewall
	up   map[string]bool
}

func (s *Store) openHost() (*hostEnv, error) {
	h, err := link.Current()
	if err != nil {
		return nil, fmt.Errorf("netlink: %w", err)
	}
	fw, err := firewall.New()
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("nftables: %w", err)
	}
	return &hostEnv{host: h, fw: fw, up: map[string]bool{}}, nil
}

func (e *hostEnv) close() { e.host.Close() }

// Share gives the container the network namespace of another process
// (--network container:NAME): the namespace at source (/proc/PID/ns/net)
// is bound at r.NetNS, so the container joins it even if that process
// goes away in between. It has no endpoints of its own.
func (s *Store) Share(r Request, source string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return err
	}
	if err := link.BindNetNS(r.NetNS, source); err != nil {
		return fmt.Errorf("network namespace of %s: %w", r.Name, err)
	}
	st.Sandboxes = append(st.Sandboxes, Sandbox{Container: r.Container, Name: r.Name, NetNS: r.NetNS, Owner: r.Owner})
	if err := s.saveState(st); err != nil {
		link.RemoveNetNS(r.NetNS)
		return err
	}
	return nil
}
