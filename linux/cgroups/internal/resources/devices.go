package resources

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Access is a set of device accesses, with the bit values the kernel's
// BPF_DEVCG_ACC_* constants have.
type Access uint8

// The accesses.
const (
	AccessMknod Access = 1
	AccessRead  Access = 2
	AccessWrite Access = 4
	AccessAll          = AccessMknod | AccessRead | AccessWrite
)

// String spells the set as the v1 devices files do ("rwm").
func (a Access) String() string {
	var b strings.Builder
	for _, x := range []struct {
		bit Access
		c   byte
	}{{AccessRead, 'r'}, {AccessWrite, 'w'}, {AccessMknod, 'm'}} {
		if a&x.bit != 0 {
			b.WriteByte(x.c)
		}
	}
	return b.String()
}

// Wildcard stands for any major or minor number.
const Wildcard = -1

// Rule is one device cgroup rule in a normalised form.
type Rule struct {
	// Allow grants the access; otherwise the rule denies it.
	Allow bool
	// Type is 'a' (every device: the rule resets the list), 'b' or 'c'.
	Type byte
	// Major and Minor are the device numbers, or Wildcard.
	Major, Minor int64
	// Access is what the rule allows or denies.
	Access Access
}

// String formats the rule as the v1 devices.allow/deny files take it
// ("c 1:3 rwm", "a *:* rwm").
func (r Rule) String() string {
	num := func(n int64) string {
		if n == Wildcard {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

// ParseRules normalises runtime-spec device rules: an empty type is 'a', a
// missing (or -1) major or minor is a wildcard, an empty access is "rwm".
// As with the v1 kernel interface, an 'a' rule concerns every device
// whatever its numbers and access say.
func ParseRules(list []specs.LinuxDeviceCgroup) ([]Rule, error) {
	rules := make([]Rule, 0, len(list))
	for i, d := range list {
		field := fmt.Sprintf("devices[%d]", i)
		r := Rule{Allow: d.Allow, Major: Wildcard, Minor: Wildcard, Access: AccessAll}
		switch d.Type {
		case "", "a":
			r.Type = 'a'
		case "b", "c":
			r.Type = d.Type[0]
		default:
			return nil, invalid(field+".type", "%q is not a, b or c", d.Type)
		}
		for _, n := range []struct {
			name string
			in   *int64
			out  *int64
		}{{"major", d.Major, &r.Major}, {"minor", d.Minor, &r.Minor}} {
			if n.in != nil {
				if *n.in < Wildcard || *n.in > math.MaxUint32 {
					return nil, invalid(field+"."+n.name, "%d is not a device number (or -1 for any)", *n.in)
				}
				*n.out = *n.in
			}
		}
		if d.Access != "" {
			r.Access = 0
			for _, c := range d.Access {
				var bit Access
				switch c {
				case 'r':
					bit = AccessRead
				case 'w':
					bit = AccessWrite
				case 'm':
					bit = AccessMknod
				default:
					return nil, invalid(field+".access", "%q: only r, w and m are allowed", d.Access)
				}
				r.Access |= bit
			}
		}
		if r.Type == 'a' {
			r.Major, r.Minor, r.Access = Wildcard, Wildcard, AccessAll
		}
		rules = append(rules, r)
	}
	return rules, nil
}
