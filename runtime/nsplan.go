package runtime

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// nsFlags maps runtime-spec namespace types to clone flags.
var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// nsPlan is the namespace work for the nsenter constructor (the text
// format is documented in linux/nsenter/nsenter.c) and the list of the
// namespaces it creates.
type nsPlan struct {
	text   string
	newNS  []specs.LinuxNamespaceType
	joined []string // "type path" of each namespace joined, for debug lines
	userNS bool     // a new user namespace, whose maps the parent writes
}

func (p nsPlan) joinedSummary() string {
	if len(p.joined) == 0 {
		return "none"
	}
	return strings.Join(p.joined, ", ")
}

func buildNSPlan(s *specs.Spec) (nsPlan, error) {
	var b strings.Builder
	var p nsPlan
	var unshare uintptr
	for i, ns := range s.Linux.Namespaces {
		flag, ok := nsFlags[ns.Type]
		if !ok {
			return p, errdefs.InvalidArgument("linux.namespaces[%d].type: unknown namespace type %q", i, ns.Type)
		}
		if ns.Path != "" {
			fmt.Fprintf(&b, "J %d %s\n", flag, ns.Path)
			p.joined = append(p.joined, string(ns.Type)+" "+ns.Path)
			continue
		}
		unshare |= flag
		p.newNS = append(p.newNS, ns.Type)
		if ns.Type == specs.UserNamespace {
			p.userNS = true
		}
	}
	fmt.Fprintf(&b, "U %d\n", unshare)
	clocks := make([]string, 0, len(s.Linux.TimeOffsets))
	for clock := range s.Linux.TimeOffsets {
		clocks = append(clocks, clock)
	}
	sort.Strings(clocks)
	for _, clock := range clocks {
		off := s.Linux.TimeOffsets[clock]
		fmt.Fprintf(&b, "T %s %d %d\n", clock, off.Secs, off.Nanosecs)
	}
	p.text = b.String()
	return p, nil
}
