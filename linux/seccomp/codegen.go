package seccomp

import (
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// badArchAction is what a syscall made through an ABI the filter does not
// cover gets; see the package documentation for why the whole process.
const badArchAction = action(unix.SECCOMP_RET_KILL_PROCESS)

// generate lays out the program described in the package documentation.
func generate(p *policy) ([]unix.SockFilter, error) {
	// Room for a large profile's program without regrowing.
	a := &assembler{prog: make([]instruction, 0, 512), at: make([]int, 0, 512)}
	badArch := a.newLabel()
	var sections [abiCount]label
	for ab := abi(0); ab < abiCount; ab++ {
		if p.abis[ab] {
			sections[ab] = a.newLabel()
		}
	}

	a.loadWord(offsetArch)
	// x86_64 first: it is what nearly every container runs.
	if p.abis[abiI386] {
		next := a.newLabel()
		a.jumpIf(opJEQ, unix.AUDIT_ARCH_X86_64, sections[abiX86_64], next)
		a.bind(next)
		a.jumpIf(opJEQ, unix.AUDIT_ARCH_I386, sections[abiI386], badArch)
	} else {
		a.jumpIf(opJEQ, unix.AUDIT_ARCH_X86_64, sections[abiX86_64], badArch)
	}
	a.bind(badArch)
	a.ret(badArchAction)

	a.bind(sections[abiX86_64])
	a.loadWord(offsetNr)
	returns := &returnBlock{}
	x32 := sections[abiX32]
	if !p.abis[abiX32] {
		// badArch lies behind; jumps only go forward.
		x32 = returns.to(a, badArchAction)
	}
	native := a.newLabel()
	a.jumpIf(opJGE, x32SyscallBit, x32, native)
	a.bind(native)
	a.emitSection(p, abiX86_64, returns)
	if p.abis[abiX32] {
		// The syscall number is still in the accumulator.
		a.bind(sections[abiX32])
		a.emitSection(p, abiX32, &returnBlock{})
	}
	if p.abis[abiI386] {
		a.bind(sections[abiI386])
		a.loadWord(offsetNr)
		a.emitSection(p, abiI386, &returnBlock{})
	}
	return a.finish()
}

// returnBlock is the return instructions at the end of a section, one per
// action, which the section's code jumps to.
type returnBlock struct {
	labels map[action]label
}

// to returns the label of the return of act.
func (r *returnBlock) to(a *assembler, act action) label {
	l, ok := r.labels[act]
	if !ok {
		if r.labels == nil {
			r.labels = map[action]label{}
		}
		l = a.newLabel()
		r.labels[act] = l
	}
	return l
}

// emit places the returns, sorted so that one config always gives the same
// program.
func (r *returnBlock) emit(a *assembler) {
	acts := make([]action, 0, len(r.labels))
	for act := range r.labels {
		acts = append(acts, act)
	}
	slices.Sort(acts)
	for _, act := range acts {
		a.bind(r.labels[act])
		a.ret(act)
	}
}

// interval is a run of syscall numbers, from first up to the next
// interval's first, that all go to target.
type interval struct {
	first  uint32
	target label
}

// intervals covers every syscall number from 0 up, adjacent runs with the
// same target merged.
type intervals []interval

// set sends the number nr, and only it, to target, the numbers after it
// going to otherwise. Calls come in increasing nr.
func (iv *intervals) set(nr uint32, target, otherwise label) {
	iv.from(nr, target)
	if nr != ^uint32(0) {
		iv.from(nr+1, otherwise)
	}
}

// from sends the numbers from first up to target.
func (iv *intervals) from(first uint32, target label) {
	s := *iv
	last := &s[len(s)-1]
	switch {
	case last.target == target:
	case last.first == first:
		// Replaces the run set() began after the previous number, which
		// may now equal the run before it.
		last.target = target
		if n := len(s); n > 1 && s[n-2].target == target {
			s = s[:n-1]
		}
	default:
		s = append(s, interval{first: first, target: target})
	}
	*iv = s
}

// ruleChecks is the argument checks shared by the syscalls whose rules
// are the same list.
type ruleChecks struct {
	at    label
	rules []*rule
}

// emitSection emits the dispatch for one ABI, with the syscall number in
// the accumulator: a binary search to the outcome of each number, the
// argument checks of conditional rules, and one return per action.
func (a *assembler) emitSection(p *policy, ab abi, returns *returnBlock) {
	fallback := returns.to(a, p.defaultAction)
	search := intervals{{first: 0, target: fallback}}
	var checks []ruleChecks
	checksAt := map[string]label{}
	for _, n := range p.syscallRules(ab) {
		nr, rules := n.nr, n.rules
		if len(rules[0].conds) == 0 {
			search.set(nr, returns.to(a, rules[0].action), fallback)
			continue
		}
		key := ruleListKey(rules)
		at, ok := checksAt[key]
		if !ok {
			at = a.newLabel()
			checksAt[key] = at
			checks = append(checks, ruleChecks{at: at, rules: rules})
		}
		search.set(nr, at, fallback)
	}

	a.emitSearch(search)
	for _, c := range checks {
		a.bind(c.at)
		for i, r := range c.rules {
			next := fallback
			if i+1 < len(c.rules) {
				next = a.newLabel()
			}
			a.emitRule(r, ab.has32BitArgs(), returns.to(a, r.action), next)
			if i+1 < len(c.rules) {
				a.bind(next)
			}
		}
	}
	returns.emit(a)
}

// ruleListKey identifies a list of rules by their places in the config.
func ruleListKey(rules []*rule) string {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(strconv.Itoa(r.index))
		b.WriteByte(',')
	}
	return b.String()
}

// emitSearch emits a balanced binary search over iv: each comparison
// halves the runs left, and a single run is its target.
func (a *assembler) emitSearch(iv intervals) {
	if len(iv) == 1 {
		a.jump(iv[0].target)
		return
	}
	mid := len(iv) / 2
	lower, upper := iv[:mid], iv[mid:]
	below, above := a.searchTarget(lower), a.searchTarget(upper)
	a.jumpIf(opJGE, upper[0].first, above, below)
	if len(lower) > 1 {
		a.bind(below)
		a.emitSearch(lower)
	}
	if len(upper) > 1 {
		a.bind(above)
		a.emitSearch(upper)
	}
}

// searchTarget is where the search goes for some of the runs: straight to
// the outcome when one run is left, else to a new subtree.
func (a *assembler) searchTarget(iv intervals) label {
	if len(iv) == 1 {
		return iv[0].target
	}
	return a.newLabel()
}

// emitRule emits a rule's conditions, going to match when all hold and to
// next at the first that does not.
func (a *assembler) emitRule(r *rule, args32 bool, match, next label) {
	if len(r.conds) == 0 {
		// Only the last rule of a list can be unconditional.
		a.jump(match)
		return
	}
	for i, c := range r.conds {
		pass := match
		if i+1 < len(r.conds) {
			pass = a.newLabel()
		}
		a.emitCondition(c, args32, pass, next)
		if i+1 < len(r.conds) {
			a.bind(pass)
		}
	}
}
