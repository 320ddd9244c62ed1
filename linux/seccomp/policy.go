package seccomp

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// rule is one entry of linux.seccomp.syscalls after validation.
type rule struct {
	index int // position in the config, for sharing code
	// numbers holds, per ABI, the numbers of the syscalls the rule names,
	// in the config's order; a name the ABI lacks has none.
	numbers [abiCount][]uint32
	action  action
	conds   []condition
}

// policy is a validated config: what the filter must do, before any code.
type policy struct {
	defaultAction action
	abis          abiSet
	// rules holds the rules in config order, without those whose action is
	// the default action.
	rules  []*rule
	flags  uint
	notify bool
}

// parsePolicy validates c. Unknown syscall names and flags that cannot
// apply become warnings; everything else wrong is an error naming the field.
func parsePolicy(c *specs.LinuxSeccomp) (*policy, []string, error) {
	var warnings []string
	p := &policy{}
	var err error
	p.defaultAction, err = parseAction(c.DefaultAction, c.DefaultErrnoRet, "linux.seccomp.defaultAction", "linux.seccomp.defaultErrnoRet")
	if err != nil {
		return nil, nil, err
	}
	if p.defaultAction.kind() == unix.SECCOMP_RET_USER_NOTIF {
		return nil, nil, errdefs.InvalidArgument("linux.seccomp.defaultAction: %s cannot be the default action: the runtime's own syscalls after loading the filter would wait for an agent that has no listener yet", specs.ActNotify)
	}
	if p.abis, err = parseArchitectures(c.Architectures); err != nil {
		return nil, nil, err
	}
	for i, s := range c.Syscalls {
		r, ruleWarnings, err := parseRule(i, s)
		if err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, ruleWarnings...)
		if r.action == p.defaultAction {
			continue
		}
		if r.action.kind() == unix.SECCOMP_RET_USER_NOTIF {
			p.notify = true
		}
		p.rules = append(p.rules, r)
	}
	flagWarnings, err := p.parseFlags(c.Flags)
	if err != nil {
		return nil, nil, err
	}
	warnings = append(warnings, flagWarnings...)
	if p.notify && c.ListenerPath == "" {
		return nil, nil, errdefs.InvalidArgument("linux.seccomp.listenerPath: required when a rule uses %s", specs.ActNotify)
	}
	if c.ListenerMetadata != "" && c.ListenerPath == "" {
		return nil, nil, errdefs.InvalidArgument("linux.seccomp.listenerMetadata: set without listenerPath")
	}
	return p, warnings, nil
}

func parseRule(i int, s specs.LinuxSyscall) (*rule, []string, error) {
	field := fmt.Sprintf("linux.seccomp.syscalls[%d]", i)
	act, err := parseAction(s.Action, s.ErrnoRet, field+".action", field+".errnoRet")
	if err != nil {
		return nil, nil, err
	}
	if len(s.Names) == 0 {
		return nil, nil, errdefs.InvalidArgument("%s.names: no syscall names", field)
	}
	r := &rule{index: i, action: act}
	var warnings []string
	for j, name := range s.Names {
		if name == "" {
			return nil, nil, errdefs.InvalidArgument("%s.names[%d]: empty syscall name", field, j)
		}
		e, ok := lookupSyscall(name)
		if !ok {
			warnings = append(warnings, fmt.Sprintf("%s.names[%d]: unknown syscall %q skipped", field, j, name))
			continue
		}
		for a, nr := range e.nr {
			if nr != noSyscall {
				r.numbers[a] = append(r.numbers[a], nr)
			}
		}
	}
	for j, a := range s.Args {
		c, err := parseCondition(a, fmt.Sprintf("%s.args[%d]", field, j))
		if err != nil {
			return nil, nil, err
		}
		r.conds = append(r.conds, c)
	}
	return r, warnings, nil
}

func (p *policy) parseFlags(names []specs.LinuxSeccompFlag) ([]string, error) {
	var warnings []string
	// Every thread of the init must get the filter, not only the one that
	// loads it.
	p.flags = unix.SECCOMP_FILTER_FLAG_TSYNC
	if names == nil {
		// runc and crun do the same when the config says nothing.
		p.flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	}
	for i, name := range names {
		bit, err := parseFlag(name, fmt.Sprintf("linux.seccomp.flags[%d]", i))
		if err != nil {
			return nil, err
		}
		if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !p.notify {
			warnings = append(warnings, fmt.Sprintf("linux.seccomp.flags[%d]: %s dropped: no rule uses %s", i, name, specs.ActNotify))
			continue
		}
		p.flags |= bit
	}
	if p.notify {
		// TSYNC_ESRCH because the kernel refuses TSYNC with NEW_LISTENER
		// otherwise: both would return their result in the same place.
		p.flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
	}
	return warnings, nil
}

// numberRules is the rules that can decide one syscall number, in config
// order.
type numberRules struct {
	nr    uint32
	rules []*rule
}

// syscallRules returns, sorted by number, each syscall number of the ABI
// that some rule names with the rules that can decide it. A list stops at
// its first unconditional rule, after which no rule can be reached.
func (p *policy) syscallRules(a abi) []numberRules {
	// Syscall numbers are dense from the ABI's base, so a slice indexed by
	// number sorts them and keeps each one's rules in config order.
	base := uint32(0)
	if a == abiX32 {
		base = x32SyscallBit
	}
	var size uint32
	for _, r := range p.rules {
		for _, nr := range r.numbers[a] {
			size = max(size, nr-base+1)
		}
	}
	lists := make([][]*rule, size)
	used := 0
	for _, r := range p.rules {
		for _, nr := range r.numbers[a] {
			list := lists[nr-base]
			if n := len(list); n > 0 && (list[n-1] == r || len(list[n-1].conds) == 0) {
				// A name listed twice in one rule, or a rule shadowed by
				// an earlier unconditional one.
				continue
			}
			if len(list) == 0 {
				used++
			}
			lists[nr-base] = append(list, r)
		}
	}
	out := make([]numberRules, 0, used)
	for i, list := range lists {
		if len(list) > 0 {
			out = append(out, numberRules{nr: base + uint32(i), rules: list})
		}
	}
	return out
}
