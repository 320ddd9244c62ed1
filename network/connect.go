package network

import (
	"fmt"
	"slices"

	"github.com/tincan/tincan/errdefs"
)

// Connect joins a running container (one with a sandbox) to one more
// network, as eth<N> with the lowest free N.
func (s *Store) Connect(container string, a Attachment) (Endpoint, error) {
	unlock, err := s.lock()
	if err != nil {
		return Endpoint{}, err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return Endpoint{}, err
	}
	env, err := s.openHost()
	if err != nil {
		return Endpoint{}, err
	}
	defer env.close()
	i := slices.IndexFunc(st.Sandboxes, func(sb Sandbox) bool { return sb.Container == container })
	if i < 0 {
		return Endpoint{}, errdefs.NotRunning("container %s has no network namespace of tincan's (not running, or not on a bridge network)", container)
	}
	sb := &st.Sandboxes[i]
	if !sb.Owner.alive() {
		return Endpoint{}, errdefs.NotRunning("container %s is not running", sb.Name)
	}
	taken := map[string]bool{}
	for _, e := range st.Endpoints {
		if e.Container == container {
			taken[e.IfName] = true
		}
	}
	index := 0
	for taken[fmt.Sprintf("eth%d", index)] {
		index++
	}
	e, err := s.attachOne(st, env, sb, a, index)
	if err != nil {
		return Endpoint{}, err
	}
	st.Endpoints = append(st.Endpoints, e)
	if err := s.saveState(st); err != nil {
		env.host.RemoveEndpoint(e.HostIf)
		return Endpoint{}, err
	}
	s.rewriteHosts(st)
	return e, nil
}

// Disconnect removes a running container's interface on a network.
func (s *Store) Disconnect(container, network string) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return err
	}
	n, err := s.findLocked(network)
	if err != nil {
		return err
	}
	env, err := s.openHost()
	if err != nil {
		return err
	}
	defer env.close()
	i := slices.IndexFunc(st.Endpoints, func(e Endpoint) bool { return e.Container == container && e.Network == n.Name })
	if i < 0 {
		return errdefs.NotFound("container %s is not connected to network %s", container, n.Name)
	}
	if err := env.host.RemoveEndpoint(st.Endpoints[i].HostIf); err != nil {
		return err
	}
	st.Endpoints = slices.Delete(st.Endpoints, i, i+1)
	if err := s.saveState(st); err != nil {
		return err
	}
	s.downIfUnused(st, env, n.Name)
	s.rewriteHosts(st)
	return nil
}

// Endpoints returns a container's endpoints and published ports (for
// inspect and `tincan port`); none when it is not attached.
func (s *Store) Endpoints(container string) ([]Endpoint, *Sandbox, error) {
	unlock, err := s.lock()
	if err != nil {
		return nil, nil, err
	}
	defer unlock()
	st, err := s.loadState()
	if err != nil {
		return nil, nil, err
	}
	var eps []Endpoint
	for _, e := range st.Endpoints {
		if e.Container == container {
			eps = append(eps, e)
		}
	}
	for _, sb := range st.Sandboxes {
		if sb.Container == container {
			return eps, &sb, nil
		}
	}
	return eps, nil, nil
}
