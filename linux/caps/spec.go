package caps

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

// Set holds the five capability sets of a process.
type Set struct {
	Bounding, Effective, Permitted, Inheritable, Ambient []Cap
}

// FromSpec converts config.json process.capabilities. A name no Linux has
// defined is an error naming the field; a name Linux has but this kernel
// lacks is left out with a warning, as runc does, so that configurations
// written for newer kernels still run. A nil c gives the empty Set: whether
// that means "no capabilities" is for the caller to decide.
func FromSpec(c *specs.LinuxCapabilities) (s Set, warnings []string, err error) {
	return fromSpec(c, LastCap())
}

func fromSpec(c *specs.LinuxCapabilities, last Cap) (s Set, warnings []string, err error) {
	if c == nil {
		return Set{}, nil, nil
	}
	fields := [...]struct {
		name  string
		names []string
		out   *[]Cap
	}{
		{"bounding", c.Bounding, &s.Bounding},
		{"effective", c.Effective, &s.Effective},
		{"permitted", c.Permitted, &s.Permitted},
		{"inheritable", c.Inheritable, &s.Inheritable},
		{"ambient", c.Ambient, &s.Ambient},
	}
	for _, f := range fields {
		for _, name := range f.names {
			capability, err := Parse(name)
			if err != nil {
				return Set{}, nil, errdefs.InvalidArgument("process.capabilities.%s: %w", f.name, err)
			}
			if capability > last {
				warnings = append(warnings, fmt.Sprintf("process.capabilities.%s: ignoring %s, which this kernel does not have (its last capability is %s)", f.name, capability, last))
				continue
			}
			*f.out = append(*f.out, capability)
		}
	}
	// The kernel raises an ambient capability only if it is both permitted
	// and inheritable. runc's own default config lists ambient caps without
	// inheritable ones, and runc silently ends with an empty ambient set;
	// do the same (a warning would fire for every default config).
	allowed := mask(s.Permitted) & mask(s.Inheritable)
	kept := s.Ambient[:0]
	for _, a := range s.Ambient {
		if allowed&(1<<uint(a)) != 0 {
			kept = append(kept, a)
		}
	}
	s.Ambient = kept
	return s, warnings, nil
}

// mask returns caps as a bit mask, bit n for capability n.
func mask(caps []Cap) uint64 {
	var m uint64
	for _, c := range caps {
		m |= 1 << uint(c)
	}
	return m
}

// fromMask lists the capabilities whose bits are set in m, in number order.
func fromMask(m uint64) []Cap {
	var caps []Cap
	for c := Cap(0); c < 64; c++ {
		if m&(1<<uint(c)) != 0 {
			caps = append(caps, c)
		}
	}
	return caps
}
