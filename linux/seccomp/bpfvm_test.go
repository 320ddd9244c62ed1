package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// This file holds a classic BPF interpreter for the instructions the
// compiler emits, so that tests can run a program on seccomp_data the
// kernel cannot produce here (i386, x32, arbitrary arguments) and fuzz it
// against the reference evaluator. golang.org/x/net/bpf has a VM too; ours
// is fifty lines, needs no new module, and refuses every instruction the
// compiler should not emit, which is a check in itself.

// seccompData mirrors struct seccomp_data.
type seccompData struct {
	nr   uint32
	arch uint32
	ip   uint64
	args [6]uint64
}

// bytes lays d out as the kernel does on a little-endian machine.
func (d seccompData) bytes() []byte {
	b := make([]byte, 64)
	binary.LittleEndian.PutUint32(b[0:], d.nr)
	binary.LittleEndian.PutUint32(b[4:], d.arch)
	binary.LittleEndian.PutUint64(b[8:], d.ip)
	for i, a := range d.args {
		binary.LittleEndian.PutUint64(b[16+8*i:], a)
	}
	return b
}

// runFilter runs prog on d and returns the filter's return value and how
// many instructions ran.
func runFilter(prog []unix.SockFilter, d seccompData) (ret uint32, executed int, err error) {
	data := d.bytes()
	var acc uint32
	for pc := 0; pc < len(prog); pc++ {
		executed++
		in := prog[pc]
		switch in.Code {
		case opLoadAbs:
			if in.K%4 != 0 || int(in.K)+4 > len(data) {
				return 0, executed, fmt.Errorf("pc %d: load from offset %d", pc, in.K)
			}
			acc = binary.LittleEndian.Uint32(data[in.K:])
		case opAnd:
			acc &= in.K
		case opJump:
			pc += int(in.K)
		case opJEQ, opJGT, opJGE:
			var holds bool
			switch in.Code {
			case opJEQ:
				holds = acc == in.K
			case opJGT:
				holds = acc > in.K
			case opJGE:
				holds = acc >= in.K
			}
			if holds {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case opReturn:
			return in.K, executed, nil
		default:
			return 0, executed, fmt.Errorf("pc %d: instruction %#x the compiler should not emit", pc, in.Code)
		}
	}
	return 0, executed, fmt.Errorf("ran off the end of the program")
}

// worstCasePath returns the most instructions any run of prog executes: the
// longest path through it, which exists because every jump goes forward.
func worstCasePath(prog []unix.SockFilter) int {
	longest := make([]int, len(prog)+1)
	for pc := len(prog) - 1; pc >= 0; pc-- {
		in := prog[pc]
		next := func(off int) int {
			if t := pc + 1 + off; t < len(prog) {
				return longest[t]
			}
			return 0
		}
		switch in.Code {
		case opReturn:
			longest[pc] = 1
		case opJump:
			longest[pc] = 1 + next(int(in.K))
		case opJEQ, opJGT, opJGE:
			longest[pc] = 1 + max(next(int(in.Jt)), next(int(in.Jf)))
		default:
			longest[pc] = 1 + next(0)
		}
	}
	return longest[0]
}

// disassemble renders prog one instruction a line, for failure messages.
func disassemble(prog []unix.SockFilter) string {
	var b []byte
	for pc, in := range prog {
		var s string
		switch in.Code {
		case opLoadAbs:
			s = fmt.Sprintf("ld [%d]", in.K)
		case opAnd:
			s = fmt.Sprintf("and %#x", in.K)
		case opJump:
			s = fmt.Sprintf("ja %d", pc+1+int(in.K))
		case opJEQ, opJGT, opJGE:
			name := map[uint16]string{opJEQ: "jeq", opJGT: "jgt", opJGE: "jge"}[in.Code]
			s = fmt.Sprintf("%s %#x, %d, %d", name, in.K, pc+1+int(in.Jt), pc+1+int(in.Jf))
		case opReturn:
			s = fmt.Sprintf("ret %s", action(in.K))
		default:
			s = fmt.Sprintf("code %#x k %#x jt %d jf %d", in.Code, in.K, in.Jt, in.Jf)
		}
		b = fmt.Appendf(b, "%4d: %s\n", pc, s)
	}
	return string(b)
}
