package network

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/tincan/tincan/network/link"
)

// sweepLocked tears down the sandboxes whose owner died (a monitor that
// was killed, a crash). It runs before every attach, so a crash's
// leftovers are reclaimed by the next run. With orphans (`network
// prune`), it also removes whatever of ours no sandbox accounts for:
// veths, port rules and namespace files made by a setup that died before
// it saved its state.
func (s *Store) sweepLocked(st *state, env *hostEnv, orphans bool) (removed []string) {
	var dead []string
	for _, sb := range st.Sandboxes {
		if !sb.Owner.alive() {
			dead = append(dead, sb.Container)
		}
	}
	for _, c := range dead {
		s.detachLocked(st, env, c)
		removed = append(removed, "sandbox "+c)
	}
	live := map[string]bool{}
	for _, sb := range st.Sandboxes {
		live[sb.Container] = true
	}
	// Endpoints without a sandbox cannot exist but for a bug; drop them.
	st.Endpoints = slices.DeleteFunc(st.Endpoints, func(e Endpoint) bool { return !live[e.Container] })
	if !orphans {
		if len(removed) > 0 {
			s.saveState(st)
		}
		return removed
	}
	hostIfs := map[string]bool{}
	for _, e := range st.Endpoints {
		hostIfs[e.HostIf] = true
	}
	if links, err := env.host.Links(vethPrefix); err == nil {
		for _, l := range links {
			// A veth of ours that no endpoint owns: its container died
			// before its state was saved, or the state was lost.
			if !hostIfs[l] && len(l) >= len(vethPrefix)+11 {
				if env.host.RemoveEndpoint(l) == nil {
					removed = append(removed, "veth "+l)
				}
			}
		}
	}
	if _, owners, err := env.fw.Owners(); err == nil {
		for _, o := range owners {
			if !live[o] && env.fw.RemovePorts(o) == nil {
				removed = append(removed, "port rules of "+o)
			}
		}
	}
	netns := map[string]bool{}
	for _, sb := range st.Sandboxes {
		netns[sb.NetNS] = true
	}
	if s.NetNSDir != "" {
		entries, _ := os.ReadDir(s.NetNSDir)
		for _, e := range entries {
			p := filepath.Join(s.NetNSDir, e.Name())
			if !netns[p] && !strings.HasSuffix(e.Name(), ".tmp") && link.RemoveNetNS(p) == nil {
				removed = append(removed, "netns "+p)
			}
		}
	}
	if len(removed) > 0 {
		s.saveState(st)
	}
	return removed
}

// Prune removes what dead containers left (sandboxes, leases, veths, port
// rules, namespace files) and then every user network no container
// uses, as `docker network prune` does; it returns what it removed.
func (s *Store) Prune(inUse func(network string) []string) (removed []string, err error) {
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
	removed = s.sweepLocked(st, env, true)
	all, err := s.listLocked()
	if err != nil {
		return removed, err
	}
	used := map[string]bool{}
	for _, e := range st.Endpoints {
		used[e.Network] = true
	}
	var errs []error
	for _, n := range all {
		if !n.UserDefined() || used[n.Name] || (inUse != nil && len(inUse(n.Name)) > 0) {
			continue
		}
		if err := s.teardownNetwork(n); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.Remove(s.definitionPath(n.Name)); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "network "+n.Name)
	}
	s.rewriteHosts(st)
	return removed, errors.Join(errs...)
}

// teardownNetwork removes a network's bridge and firewall rules.
func (s *Store) teardownNetwork(n *Network) error {
	env, err := s.openHost()
	if err != nil {
		return err
	}
	defer env.close()
	return teardown(env, n)
}
