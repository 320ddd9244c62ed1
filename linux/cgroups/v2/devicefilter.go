package v2

import (
	"encoding/binary"

	"github.com/tincan/tincan/linux/cgroups/internal/resources"
)

// The eBPF instruction encodings the device filter needs (linux/bpf.h,
// linux/bpf_common.h).
const (
	bpfLdxMemW  = 0x61 // BPF_LDX | BPF_MEM | BPF_W
	bpfMovImm   = 0xb7 // BPF_ALU64 | BPF_MOV | BPF_K
	bpfMovReg   = 0xbf // BPF_ALU64 | BPF_MOV | BPF_X
	bpfAndImm   = 0x57 // BPF_ALU64 | BPF_AND | BPF_K
	bpfRshImm   = 0x77 // BPF_ALU64 | BPF_RSH | BPF_K
	bpfJeqImm   = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
	bpfJneImm   = 0x55 // BPF_JMP | BPF_JNE | BPF_K
	bpfExit     = 0x95 // BPF_JMP | BPF_EXIT
	bpfInsnSize = 8
)

// Registers. R1 holds the context on entry; R0 is the verdict.
const (
	r0 = iota
	r1
	r2
	r3
	r4
	r5
)

// The kernel's struct bpf_cgroup_dev_ctx: access_type (access bits << 16 |
// device type), major, minor, each a u32.
const (
	ctxAccessType = 0
	ctxMajor      = 4
	ctxMinor      = 8
	devBlock      = 1 // BPF_DEVCG_DEV_BLOCK
	devChar       = 2 // BPF_DEVCG_DEV_CHAR
)

type insn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

// deviceFilter compiles device rules into a BPF_PROG_TYPE_CGROUP_DEVICE
// program with the meaning the rules have when written in order to a v1
// devices cgroup that starts by denying everything: an 'a' rule resets to
// allow-all or deny-all, and for each access bit asked for (read, write,
// mknod) the last rule that matches the device and names that bit
// decides. A request is allowed when every bit it asks for is.
//
// The program keeps the bits not decided yet in R3 and tries the rules
// from the last one back:
//
//	R2 = device type, R3 = requested access, R4 = major, R5 = minor
//	for each rule, last first:
//	    skip unless type, major and minor match and R3 & access != 0
//	    deny:  return 0
//	    allow: R3 &^= access; if R3 == 0 { return 1 }
//	return the verdict of the last 'a' rule (deny when there is none)
func deviceFilter(rules []resources.Rule) []byte {
	defaultAllow := false
	for i := len(rules) - 1; i >= 0; i-- {
		if rules[i].Type == 'a' {
			defaultAllow = rules[i].Allow
			rules = rules[i+1:]
			break
		}
	}
	prog := []insn{
		{code: bpfLdxMemW, dst: r2, src: r1, off: ctxAccessType},
		{code: bpfMovReg, dst: r3, src: r2},
		{code: bpfAndImm, dst: r2, imm: 0xffff},
		{code: bpfRshImm, dst: r3, imm: 16},
		{code: bpfLdxMemW, dst: r4, src: r1, off: ctxMajor},
		{code: bpfLdxMemW, dst: r5, src: r1, off: ctxMinor},
	}
	for i := len(rules) - 1; i >= 0; i-- {
		prog = append(prog, ruleBlock(rules[i])...)
	}
	verdict := int32(0)
	if defaultAllow {
		verdict = 1
	}
	prog = append(prog, insn{code: bpfMovImm, dst: r0, imm: verdict}, insn{code: bpfExit})
	return encode(prog)
}

// ruleBlock is one rule's test. Every "skip" jumps to the end of the
// block, so the offsets are counted from the block's length.
func ruleBlock(r resources.Rule) []insn {
	var tests []insn // each entry a conditional jump to the block's end
	devType := int32(devChar)
	if r.Type == 'b' {
		devType = devBlock
	}
	tests = append(tests, insn{code: bpfJneImm, dst: r2, imm: devType})
	if r.Major != resources.Wildcard {
		tests = append(tests, insn{code: bpfJneImm, dst: r4, imm: int32(r.Major)})
	}
	if r.Minor != resources.Wildcard {
		tests = append(tests, insn{code: bpfJneImm, dst: r5, imm: int32(r.Minor)})
	}
	tests = append(tests,
		insn{code: bpfMovReg, dst: r1, src: r3},
		insn{code: bpfAndImm, dst: r1, imm: int32(r.Access)},
		insn{code: bpfJeqImm, dst: r1, imm: 0},
	)
	var tail []insn
	if r.Allow {
		tail = []insn{
			{code: bpfAndImm, dst: r3, imm: ^int32(r.Access)},
			{code: bpfJneImm, dst: r3, imm: 0, off: 2},
			{code: bpfMovImm, dst: r0, imm: 1},
			{code: bpfExit},
		}
	} else {
		tail = []insn{{code: bpfMovImm, dst: r0, imm: 0}, {code: bpfExit}}
	}
	block := append(tests, tail...)
	for i := range tests {
		if tests[i].code == bpfJneImm || tests[i].code == bpfJeqImm {
			block[i].off = int16(len(block) - i - 1)
		}
	}
	return block
}

// encode lays the instructions out as struct bpf_insn: code, dst_reg in
// the low and src_reg in the high nibble, off, imm, little-endian.
func encode(prog []insn) []byte {
	out := make([]byte, 0, len(prog)*bpfInsnSize)
	for _, in := range prog {
		out = append(out, in.code, in.dst|in.src<<4)
		out = binary.LittleEndian.AppendUint16(out, uint16(in.off))
		out = binary.LittleEndian.AppendUint32(out, uint32(in.imm))
	}
	return out
}
