package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// maxInstructions is BPF_MAXINSNS, the kernel's limit for one filter.
const maxInstructions = 4096

// maxCondJump is the furthest a conditional jump reaches: its jt and jf
// offsets are 8 bits.
const maxCondJump = 255

// The instruction codes the compiler emits. The kernel's seccomp checker
// allows more; the test interpreter knows exactly these.
const (
	opLoadAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	opAnd     = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opJump    = unix.BPF_JMP | unix.BPF_JA
	opJEQ     = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJGT     = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	opJGE     = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	opReturn  = unix.BPF_RET | unix.BPF_K
)

// label names a position in the program before the position is known.
type label int

// instruction is a BPF instruction whose jump targets are still labels.
type instruction struct {
	code   uint16
	k      uint32
	jt, jf label // conditional jumps
	to     label // opJump
}

func (in instruction) isConditional() bool {
	return in.code&0x07 == unix.BPF_JMP && in.code != opJump
}

// assembler collects instructions and labels and resolves them into the
// kernel's format, inserting trampolines for conditional jumps that reach
// too far. Every jump goes forward, as classic BPF requires.
type assembler struct {
	prog []instruction
	// at maps a label to the index of the instruction it stands before;
	// -1 while unbound.
	at []int
}

func (a *assembler) newLabel() label {
	a.at = append(a.at, -1)
	return label(len(a.at) - 1)
}

// bind places l before the next instruction emitted.
func (a *assembler) bind(l label) {
	if a.at[l] != -1 {
		panic(fmt.Sprintf("seccomp: label %d bound twice", l))
	}
	a.at[l] = len(a.prog)
}

func (a *assembler) loadWord(offset uint32) {
	a.prog = append(a.prog, instruction{code: opLoadAbs, k: offset})
}

func (a *assembler) and(mask uint32) {
	a.prog = append(a.prog, instruction{code: opAnd, k: mask})
}

// jumpIf jumps to jt when the comparison op of the accumulator with k holds
// and to jf otherwise.
func (a *assembler) jumpIf(op uint16, k uint32, jt, jf label) {
	a.prog = append(a.prog, instruction{code: op, k: k, jt: jt, jf: jf})
}

func (a *assembler) jump(to label) {
	a.prog = append(a.prog, instruction{code: opJump, to: to})
}

func (a *assembler) ret(act action) {
	a.prog = append(a.prog, instruction{code: opReturn, k: uint32(act)})
}

// finish resolves the labels and returns the program.
func (a *assembler) finish() ([]unix.SockFilter, error) {
	for l, at := range a.at {
		if at == -1 {
			return nil, fmt.Errorf("seccomp: internal error: label %d never bound", l)
		}
	}
	a.dropJumpsToNext()
	a.dropRedundantLoads()
	for a.addTrampolines() {
		if len(a.prog) > maxInstructions {
			break
		}
	}
	if len(a.prog) > maxInstructions {
		return nil, fmt.Errorf("%w: %d instructions, more than the kernel's limit of %d", errTooLarge, len(a.prog), maxInstructions)
	}
	out := make([]unix.SockFilter, len(a.prog))
	for i, in := range a.prog {
		f := unix.SockFilter{Code: in.code, K: in.k}
		switch {
		case in.code == opJump:
			f.K = uint32(a.distance(i, in.to))
		case in.isConditional():
			f.Jt = uint8(a.distance(i, in.jt))
			f.Jf = uint8(a.distance(i, in.jf))
		}
		out[i] = f
	}
	return out, nil
}

// distance is the jump offset from instruction i to label l.
func (a *assembler) distance(i int, l label) int {
	d := a.at[l] - i - 1
	if d < 0 || d >= len(a.prog)-i {
		// The generator only jumps forward to instructions it emitted.
		panic(fmt.Sprintf("seccomp: jump from %d to label %d at %d", i, l, a.at[l]))
	}
	return d
}

// dropJumpsToNext removes unconditional jumps to the next instruction,
// which the generator emits where a block happens to follow its jump.
func (a *assembler) dropJumpsToNext() {
	keep := make([]bool, len(a.prog))
	for i, in := range a.prog {
		keep[i] = in.code != opJump || a.at[in.to] != i+1
	}
	a.rebuild(keep, nil)
}

// dropRedundantLoads removes loads of a word the accumulator already holds
// on every path that reaches them, as happens when consecutive conditions
// test the same argument. Every jump goes forward, so one pass in program
// order sees all of an instruction's predecessors before the instruction.
func (a *assembler) dropRedundantLoads() {
	const (
		unreached = -2 // no predecessor seen yet
		unknown   = -1 // the accumulator holds something else
	)
	holds := make([]int64, len(a.prog)+1)
	for i := range holds {
		holds[i] = unreached
	}
	holds[0] = unknown
	flow := func(to int, word int64) {
		switch holds[to] {
		case unreached:
			holds[to] = word
		case word:
		default:
			holds[to] = unknown
		}
	}
	keep := make([]bool, len(a.prog))
	for i, in := range a.prog {
		word := holds[i]
		keep[i] = !(in.code == opLoadAbs && word == int64(in.k))
		switch {
		case in.code == opLoadAbs:
			word = int64(in.k)
		case in.code == opAnd:
			word = unknown
		}
		switch {
		case in.code == opReturn:
		case in.code == opJump:
			flow(a.at[in.to], word)
		case in.isConditional():
			flow(a.at[in.jt], word)
			flow(a.at[in.jf], word)
		default:
			flow(i+1, word)
		}
	}
	a.rebuild(keep, nil)
}

// trampoline is an unconditional jump inserted after a conditional one,
// with the label the conditional jump now targets.
type trampoline struct {
	at label
	to label
}

// addTrampolines rewrites each conditional jump that reaches further than
// 255 instructions to jump to an unconditional jump placed right after it,
// and reports whether it changed anything. Inserting instructions can push
// other jumps out of reach, so the caller repeats until nothing changes.
func (a *assembler) addTrampolines() bool {
	var after map[int][]trampoline
	for i := range a.prog {
		in := &a.prog[i]
		if !in.isConditional() {
			continue
		}
		for _, target := range []*label{&in.jt, &in.jf} {
			if a.at[*target]-i-1 <= maxCondJump {
				continue
			}
			if after == nil {
				after = make(map[int][]trampoline)
			}
			t := trampoline{at: a.newLabel(), to: *target}
			after[i] = append(after[i], t)
			*target = t.at
		}
	}
	if after == nil {
		return false
	}
	a.rebuild(nil, after)
	return true
}

// rebuild rewrites the program, leaving out instruction i where keep is
// given and keep[i] is false, and inserting the trampolines after[i] after
// instruction i. Labels follow the instructions they stood before.
func (a *assembler) rebuild(keep []bool, after map[int][]trampoline) {
	newIndex := make([]int, len(a.prog)+1)
	prog := make([]instruction, 0, len(a.prog)+2*len(after))
	var placed []trampoline
	var placedAt []int
	for i, in := range a.prog {
		newIndex[i] = len(prog)
		if keep != nil && !keep[i] {
			continue
		}
		prog = append(prog, in)
		for _, t := range after[i] {
			placed = append(placed, t)
			placedAt = append(placedAt, len(prog))
			prog = append(prog, instruction{code: opJump, to: t.to})
		}
	}
	newIndex[len(a.prog)] = len(prog)
	for l, at := range a.at {
		if at >= 0 {
			a.at[l] = newIndex[at]
		}
	}
	for n, t := range placed {
		a.at[t.at] = placedAt[n]
	}
	a.prog = prog
}
