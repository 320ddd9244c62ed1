package seccomp

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// The encoding, for the trip from the runtime parent to the container init
// (both the same binary, so no compatibility across versions is promised
// beyond the version byte catching a mismatch):
//
//	"TSC" version(1 byte) flags(uvarint) notify(1 byte) count(uvarint)
//	count × instruction (code u16, jt u8, jf u8, k u32; little-endian)
//
// which is the kernel's own 8 bytes per instruction plus a few bytes of
// header: about 2.7 KiB for the Docker default profile.
const (
	encodingMagic   = "TSC"
	encodingVersion = 1
)

// knownFilterFlags are the flag bits a Program may carry.
const knownFilterFlags = unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG |
	unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER |
	unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV

// MarshalBinary encodes the program so that the container init can load it
// without compiling again.
func (p *Program) MarshalBinary() ([]byte, error) {
	if len(p.Filter) == 0 || len(p.Filter) > maxInstructions {
		return nil, fmt.Errorf("encode seccomp program: %d instructions (want 1 to %d)", len(p.Filter), maxInstructions)
	}
	b := make([]byte, 0, len(encodingMagic)+1+binary.MaxVarintLen64+1+binary.MaxVarintLen64+8*len(p.Filter))
	b = append(b, encodingMagic...)
	b = append(b, encodingVersion)
	b = binary.AppendUvarint(b, uint64(p.Flags))
	notify := byte(0)
	if p.Notify {
		notify = 1
	}
	b = append(b, notify)
	b = binary.AppendUvarint(b, uint64(len(p.Filter)))
	for _, in := range p.Filter {
		b = binary.LittleEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.LittleEndian.AppendUint32(b, in.K)
	}
	return b, nil
}

// UnmarshalBinary decodes what MarshalBinary wrote. It checks the framing,
// not the instructions: the kernel checks those when the program loads.
func (p *Program) UnmarshalBinary(b []byte) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("decode seccomp program: "+format, args...)
	}
	if len(b) < len(encodingMagic)+1 || string(b[:len(encodingMagic)]) != encodingMagic {
		return bad("not an encoded seccomp program")
	}
	b = b[len(encodingMagic):]
	if b[0] != encodingVersion {
		return bad("encoding version %d, want %d", b[0], encodingVersion)
	}
	b = b[1:]
	flags, n := binary.Uvarint(b)
	if n <= 0 || flags&^knownFilterFlags != 0 {
		return bad("bad filter flags")
	}
	b = b[n:]
	if len(b) < 1 || b[0] > 1 {
		return bad("bad notify byte")
	}
	notify := b[0] == 1
	b = b[1:]
	if notify != (flags&unix.SECCOMP_FILTER_FLAG_NEW_LISTENER != 0) {
		return bad("notify does not match SECCOMP_FILTER_FLAG_NEW_LISTENER")
	}
	count, n := binary.Uvarint(b)
	if n <= 0 || count == 0 || count > maxInstructions {
		return bad("bad instruction count")
	}
	b = b[n:]
	if uint64(len(b)) != 8*count {
		return bad("%d bytes of instructions for %d instructions", len(b), count)
	}
	filter := make([]unix.SockFilter, count)
	for i := range filter {
		in := b[8*i:]
		filter[i] = unix.SockFilter{
			Code: binary.LittleEndian.Uint16(in),
			Jt:   in[2],
			Jf:   in[3],
			K:    binary.LittleEndian.Uint32(in[4:]),
		}
	}
	*p = Program{Filter: filter, Flags: uint(flags), Notify: notify}
	return nil
}
