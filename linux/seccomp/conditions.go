package seccomp

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

// Offsets into struct seccomp_data.
const (
	offsetNr   = 0
	offsetArch = 4
	// offsetArgs is where args[0] starts; each argument is a little-endian
	// u64, so its low word comes first.
	offsetArgs = 16
)

// maxArgs is the number of syscall arguments seccomp_data holds.
const maxArgs = 6

// condition is one argument comparison of a rule.
type condition struct {
	arg      uint
	op       specs.LinuxSeccompOperator
	value    uint64
	valueTwo uint64
}

func parseCondition(c specs.LinuxSeccompArg, field string) (condition, error) {
	if c.Index >= maxArgs {
		return condition{}, errdefs.InvalidArgument("%s.index: %d is not an argument index (0 to %d)", field, c.Index, maxArgs-1)
	}
	switch c.Op {
	case specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
		specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual:
	case "":
		return condition{}, errdefs.InvalidArgument("%s.op: missing operator", field)
	default:
		return condition{}, errdefs.InvalidArgument("%s.op: unknown operator %q", field, c.Op)
	}
	return condition{arg: c.Index, op: c.Op, value: c.Value, valueTwo: c.ValueTwo}, nil
}

// emitCondition emits code that goes to pass when c holds for the syscall
// and to fail when it does not. On 32-bit ABIs only the low words count.
func (a *assembler) emitCondition(c condition, args32 bool, pass, fail label) {
	low := offsetArgs + 8*uint32(c.arg)
	high := low + 4
	value, valueTwo := c.value, c.valueTwo
	if args32 {
		value, valueTwo = value&0xffffffff, valueTwo&0xffffffff
	} else if c.op == specs.OpMaskedEqual {
		lowWord := a.newLabel()
		a.emitMaskedWord(high, hi(value), hi(valueTwo), lowWord, fail)
		a.bind(lowWord)
	} else {
		a.emitHighWord(c.op, high, hi(value), pass, fail)
	}
	a.emitLowWord(c.op, low, lo(value), lo(valueTwo), pass, fail)
}

// emitHighWord compares the high word of a 64-bit argument with that of
// value and goes to pass or fail when the high words decide the comparison;
// it falls through to the low word comparison when they are equal and that
// matters.
func (a *assembler) emitHighWord(op specs.LinuxSeccompOperator, offset, value uint32, pass, fail label) {
	a.loadWord(offset)
	lowWord := a.newLabel()
	switch op {
	case specs.OpEqualTo:
		a.jumpIf(opJEQ, value, lowWord, fail)
	case specs.OpNotEqual:
		a.jumpIf(opJEQ, value, lowWord, pass)
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		a.jumpAboveOrBelow(value, pass, fail, lowWord)
	case specs.OpLessThan, specs.OpLessEqual:
		a.jumpAboveOrBelow(value, fail, pass, lowWord)
	}
	a.bind(lowWord)
}

// jumpAboveOrBelow goes to above when the accumulator is greater than
// value, to below when it is less, and to equal otherwise. With value 0
// nothing is below, which saves the equality test.
func (a *assembler) jumpAboveOrBelow(value uint32, above, below, equal label) {
	if value == 0 {
		a.jumpIf(opJGT, 0, above, equal)
		return
	}
	notAbove := a.newLabel()
	a.jumpIf(opJGT, value, above, notAbove)
	a.bind(notAbove)
	a.jumpIf(opJEQ, value, equal, below)
}

// emitLowWord compares the low word, with the high words known equal (or
// irrelevant on 32-bit ABIs), and goes to pass or fail.
func (a *assembler) emitLowWord(op specs.LinuxSeccompOperator, offset, value, valueTwo uint32, pass, fail label) {
	if op == specs.OpMaskedEqual {
		a.emitMaskedWord(offset, value, valueTwo, pass, fail)
		return
	}
	a.loadWord(offset)
	switch op {
	case specs.OpEqualTo:
		a.jumpIf(opJEQ, value, pass, fail)
	case specs.OpNotEqual:
		a.jumpIf(opJEQ, value, fail, pass)
	case specs.OpGreaterThan:
		a.jumpIf(opJGT, value, pass, fail)
	case specs.OpGreaterEqual:
		a.jumpIf(opJGE, value, pass, fail)
	case specs.OpLessThan:
		a.jumpIf(opJGE, value, fail, pass)
	case specs.OpLessEqual:
		a.jumpIf(opJGT, value, fail, pass)
	}
}

// emitMaskedWord tests (word & mask) == want and goes to pass or fail.
// Masks of all zeros or all ones need no AND (or no load at all).
func (a *assembler) emitMaskedWord(offset, mask, want uint32, pass, fail label) {
	switch {
	case mask == 0 && want == 0:
		a.jump(pass)
		return
	case want&^mask != 0:
		// Bits outside the mask are zero after the AND: never equal.
		a.jump(fail)
		return
	}
	a.loadWord(offset)
	if mask != 0xffffffff {
		a.and(mask)
	}
	a.jumpIf(opJEQ, want, pass, fail)
}

func hi(v uint64) uint32 { return uint32(v >> 32) }
func lo(v uint64) uint32 { return uint32(v) }
