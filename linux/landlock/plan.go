package landlock

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tincan/tincan/errdefs"
)

// Plan is a Config resolved for one kernel's Landlock ABI: the access
// rights the ruleset handles and the rules, in the kernel's bits.
type Plan struct {
	// ABI is the Landlock ABI version the plan is for (0: none).
	ABI int
	// HandledFS, HandledNet and Scoped are the ruleset's attributes.
	HandledFS, HandledNet, Scoped uint64
	// Paths allow file accesses beneath a path (inside the container).
	Paths []PathRule
	// Ports allow TCP accesses to a port.
	Ports []PortRule
}

// PathRule allows Access beneath Path.
type PathRule struct {
	Path   string
	Access uint64
}

// PortRule allows Access (bind, connect) on TCP port Port.
type PortRule struct {
	Port   uint16
	Access uint64
}

// Empty reports whether the plan restricts nothing (no Landlock, best
// effort).
func (p *Plan) Empty() bool {
	return p.HandledFS == 0 && p.HandledNet == 0 && p.Scoped == 0
}

// Negotiate resolves c for Landlock ABI version abi (0: the kernel has no
// Landlock). With best-effort compatibility, what the ABI cannot enforce is
// left out and named in the warnings; with hard-requirement it is an error
// of class errdefs.ErrUnsupported.
func (c *Config) Negotiate(abi int) (*Plan, []string, error) {
	n := negotiation{hard: c.Compatibility == hardRequirement, abi: abi}
	p := &Plan{ABI: abi}
	if abi <= 0 {
		n.lack("the kernel has no Landlock (not built in, or not in the lsm= boot parameter)")
		if err := n.err(); err != nil {
			return nil, nil, err
		}
		return &Plan{}, n.warnings, nil
	}
	if c.FS != nil {
		var missing []string
		for _, name := range sortedKeys(fsRights) {
			r := fsRights[name]
			if r.abi <= abi {
				p.HandledFS |= r.bit
			} else {
				missing = append(missing, fmt.Sprintf("%s (ABI %d)", name, r.abi))
			}
		}
		if len(missing) > 0 {
			n.lack("filesystem accesses " + strings.Join(missing, ", ") + " are not restricted")
		}
		for _, r := range c.FS {
			mask, _ := accessMask(r.Allow) // checked by Parse
			if abi < 2 && mask&fsRights["refer"].bit != 0 {
				// Without REFER the kernel denies every rename or link
				// across directories: stricter, not weaker, so only a warning.
				n.warnings = append(n.warnings, fmt.Sprintf(
					"annotation %s: Landlock ABI %d cannot allow \"refer\": renaming or linking across directories will fail", Annotation, abi))
			}
			if mask &= p.HandledFS; mask == 0 {
				continue
			}
			for _, path := range r.Paths {
				p.Paths = append(p.Paths, PathRule{Path: path, Access: mask})
			}
		}
	}
	if c.Net != nil {
		if abi < netABI {
			n.lack(fmt.Sprintf("TCP port rules are not enforced (they need ABI %d, Linux 6.7)", netABI))
		} else {
			p.HandledNet = netBindTCP | netConnectTCP
			p.Ports = append(portRules(c.Net.BindTCP, netBindTCP), portRules(c.Net.ConnectTCP, netConnectTCP)...)
		}
	}
	if len(c.Scope) > 0 {
		if abi < scopeABI {
			n.lack(fmt.Sprintf("scope %s is not enforced (it needs ABI %d, Linux 6.12)", strings.Join(c.Scope, ", "), scopeABI))
		} else {
			for _, s := range c.Scope {
				p.Scoped |= scopes[s]
			}
		}
	}
	if err := n.err(); err != nil {
		return nil, nil, err
	}
	return p, n.warnings, nil
}

// portRules merges the ports of one access into rules, one per port.
func portRules(ports []uint16, access uint64) []PortRule {
	seen := map[uint16]bool{}
	var out []PortRule
	for _, port := range ports {
		if !seen[port] {
			seen[port] = true
			out = append(out, PortRule{Port: port, Access: access})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Port < out[j].Port })
	return out
}

// negotiation collects what the ABI lacks.
type negotiation struct {
	hard     bool
	abi      int
	lacking  []string
	warnings []string
}

func (n *negotiation) lack(what string) {
	n.lacking = append(n.lacking, what)
	if !n.hard {
		n.warnings = append(n.warnings, fmt.Sprintf("annotation %s: Landlock ABI %d here: %s", Annotation, n.abi, what))
	}
}

func (n *negotiation) err() error {
	if !n.hard || len(n.lacking) == 0 {
		return nil
	}
	return errdefs.Unsupported("annotation %s: compatibility %q, but Landlock ABI %d here: %s",
		Annotation, hardRequirement, n.abi, strings.Join(n.lacking, "; "))
}
