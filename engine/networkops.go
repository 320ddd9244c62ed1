package engine

import (
	"slices"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/network"
	"github.com/tincan/tincan/network/portmap"
)

// NetworkUsers names the containers whose configuration joins network
// (running or not): a network they use cannot be removed.
func (s *Store) NetworkUsers(name string) []string {
	all, _ := s.List()
	var users []string
	for _, r := range all {
		for _, a := range r.Config.Networks {
			if a.Network == name {
				users = append(users, r.Name)
			}
		}
	}
	return users
}

// RemoveNetwork removes a user network no container uses.
func (s *Store) RemoveNetwork(ref string) (*network.Network, error) {
	return s.Networks().Remove(ref, s.NetworkUsers)
}

// PruneNetworks removes what dead containers left and unused user
// networks.
func (s *Store) PruneNetworks() ([]string, error) {
	return s.Networks().Prune(s.NetworkUsers)
}

// ConnectNetwork adds a network to a container's configuration and, when
// it runs, gives it an interface there at once (docker network connect).
func (s *Store) ConnectNetwork(netRef, ctrRef string, a network.Attachment) error {
	rec, err := s.Find(ctrRef)
	if err != nil {
		return err
	}
	nets := s.Networks()
	n, _, err := nets.Inspect(netRef)
	if err != nil {
		return err
	}
	if rec.Config.Network != NetworkBridge {
		return errdefs.Conflict("container %s uses --network %s: it cannot join a bridge network", rec.Name, rec.Config.Network)
	}
	if len(a.Aliases) > 0 && !n.UserDefined() {
		return errdefs.InvalidArgument("network-scoped aliases are supported only for user-defined networks")
	}
	a.Network = n.Name
	unlock, err := s.lockContainer(rec.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if rec, err = s.Load(rec.ID); err != nil {
		return err
	}
	if slices.ContainsFunc(rec.Config.Networks, func(x network.Attachment) bool { return x.Network == n.Name }) {
		return errdefs.Conflict("container %s is already connected to network %s", rec.Name, n.Name)
	}
	if s.LiveState(rec) == StateRunning || s.LiveState(rec) == StatePaused {
		e, err := nets.Connect(rec.ID, a)
		if err != nil {
			return err
		}
		if rec.Network != nil {
			rec.Network.Endpoints = append(rec.Network.Endpoints, e)
		}
	}
	rec.Config.Networks = append(rec.Config.Networks, a)
	return s.save(rec)
}

// DisconnectNetwork removes a network from a container (and its
// interface there when it runs).
func (s *Store) DisconnectNetwork(netRef, ctrRef string) error {
	rec, err := s.Find(ctrRef)
	if err != nil {
		return err
	}
	nets := s.Networks()
	n, _, err := nets.Inspect(netRef)
	if err != nil {
		return err
	}
	unlock, err := s.lockContainer(rec.ID)
	if err != nil {
		return err
	}
	defer unlock()
	if rec, err = s.Load(rec.ID); err != nil {
		return err
	}
	i := slices.IndexFunc(rec.Config.Networks, func(x network.Attachment) bool { return x.Network == n.Name })
	if i < 0 {
		return errdefs.NotFound("container %s is not connected to network %s", rec.Name, n.Name)
	}
	if len(rec.Config.Networks) == 1 {
		return errdefs.Conflict("network %s is the last network of container %s: it cannot be disconnected (run it with --network none instead)", n.Name, rec.Name)
	}
	if s.LiveState(rec) == StateRunning || s.LiveState(rec) == StatePaused {
		if err := nets.Disconnect(rec.ID, n.Name); err != nil {
			return err
		}
		if rec.Network != nil {
			rec.Network.Endpoints = slices.DeleteFunc(rec.Network.Endpoints, func(e network.Endpoint) bool { return e.Network == n.Name })
		}
	}
	rec.Config.Networks = slices.Delete(rec.Config.Networks, i, i+1)
	return s.save(rec)
}

// Ports are a running container's published ports (docker port).
func (s *Store) Ports(ref string) (*Record, []portmap.Mapping, error) {
	rec, err := s.Find(ref)
	if err != nil {
		return nil, nil, err
	}
	if st := s.LiveState(rec); st != StateRunning && st != StatePaused {
		return rec, nil, nil
	}
	if rec.Network == nil {
		return rec, nil, nil
	}
	return rec, rec.Network.Ports, nil
}
