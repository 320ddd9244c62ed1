package firewall

import (
	"net/netip"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Expression builders. Each returns the expressions of one match or
// statement, as nft itself would write them (see `nft --debug=netlink`).

// ifNameSize is IFNAMSIZ: nft compares interface names as 16 bytes, the
// name zero-padded.
const ifNameSize = unix.IFNAMSIZ

// loopback4 is IPv4's loopback net.
var loopback4 = netip.MustParsePrefix("127.0.0.0/8")

// ipsDstNAT is conntrack's IPS_DST_NAT status bit (linux/netfilter/
// nf_conntrack_common.h), nft's "ct status dnat".
const ipsDstNAT = 1 << 5

// ifname is name zero-padded to IFNAMSIZ.
func ifname(name string) []byte {
	b := make([]byte, ifNameSize)
	copy(b, name)
	return b
}

// metaCmp loads key into register 1 and compares it with data.
func metaCmp(key expr.MetaKey, op expr.CmpOp, data []byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: key, Register: 1},
		&expr.Cmp{Op: op, Register: 1, Data: data},
	}
}

// iifname: meta iifname [!=] name.
func iifname(name string, eq bool) []expr.Any {
	return metaCmp(expr.MetaKeyIIFNAME, cmpOp(eq), ifname(name))
}

// oifname: meta oifname [!=] name.
func oifname(name string, eq bool) []expr.Any {
	return metaCmp(expr.MetaKeyOIFNAME, cmpOp(eq), ifname(name))
}

func cmpOp(eq bool) expr.CmpOp {
	if eq {
		return expr.CmpOpEq
	}
	return expr.CmpOpNeq
}

// nfproto: meta nfproto ipv4|ipv6 (the family of a).
func nfproto(a netip.Addr) []expr.Any {
	p := byte(unix.NFPROTO_IPV6)
	if a.Is4() {
		p = unix.NFPROTO_IPV4
	}
	return metaCmp(expr.MetaKeyNFPROTO, expr.CmpOpEq, []byte{p})
}

// addrOffset is the offset of the source or destination address in the
// IPv4 or IPv6 header.
func addrOffset(a netip.Addr, src bool) uint32 {
	switch {
	case a.Is4() && src:
		return 12
	case a.Is4():
		return 16
	case src:
		return 8
	default:
		return 24
	}
}

// matchPrefix: meta nfproto F ip[6] saddr|daddr p (src picks saddr).
func matchPrefix(p netip.Prefix, src bool) []expr.Any {
	p = p.Masked()
	a := p.Addr()
	n := uint32(a.BitLen() / 8)
	es := nfproto(a)
	es = append(es, &expr.Payload{
		DestRegister: 1, Base: expr.PayloadBaseNetworkHeader,
		Offset: addrOffset(a, src), Len: n,
	})
	if p.Bits() < a.BitLen() {
		mask := make([]byte, n)
		for i := 0; i < p.Bits(); i++ {
			mask[i/8] |= 0x80 >> (i % 8)
		}
		es = append(es, &expr.Bitwise{
			SourceRegister: 1, DestRegister: 1, Len: n,
			Mask: mask, Xor: make([]byte, n),
		})
	}
	return append(es, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: a.AsSlice()})
}

// matchAddr: meta nfproto F ip[6] saddr|daddr a.
func matchAddr(a netip.Addr, src bool) []expr.Any {
	return matchPrefix(netip.PrefixFrom(a, a.BitLen()), src)
}

// l4Dport: meta l4proto P th dport port.
func l4Dport(proto byte, port uint16) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(port)},
	}
}

// fibDaddrLocal: fib daddr type local.
func fibDaddrLocal() []expr.Any {
	return []expr.Any{
		&expr.Fib{Register: 1, FlagDADDR: true, ResultADDRTYPE: true},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(unix.RTN_LOCAL)},
	}
}

// ctStatusDNAT: ct status dnat (set) or ct status & dnat == 0 (!set). nft's
// own "ct status != dnat" compares the whole word, which is not the same.
func ctStatusDNAT(set bool) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATUS},
		&expr.Bitwise{
			SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(ipsDstNAT),
			Xor:  make([]byte, 4),
		},
		&expr.Cmp{Op: cmpOp(!set), Register: 1, Data: make([]byte, 4)},
	}
}

// oifnameInSet: oifname @set.
func oifnameInSet(setName string, setID uint32) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyOIFNAME, Register: 1},
		&expr.Lookup{SourceRegister: 1, SetName: setName, SetID: setID},
	}
}

// dnat: dnat ip[6] to addr:port.
func dnat(addr netip.Addr, port uint16) []expr.Any {
	fam := uint32(unix.NFPROTO_IPV6)
	if addr.Is4() {
		fam = unix.NFPROTO_IPV4
	}
	return []expr.Any{
		&expr.Immediate{Register: 1, Data: addr.AsSlice()},
		&expr.Immediate{Register: 2, Data: binaryutil.BigEndian.PutUint16(port)},
		&expr.NAT{
			Type: expr.NATTypeDestNAT, Family: fam,
			RegAddrMin: 1, RegProtoMin: 2, Specified: true,
		},
	}
}

// masquerade: masquerade.
func masquerade() []expr.Any { return []expr.Any{&expr.Masq{}} }

// drop: drop.
func drop() []expr.Any { return []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}} }

// jump: jump chain.
func jump(chain string) []expr.Any {
	return []expr.Any{&expr.Verdict{Kind: expr.VerdictJump, Chain: chain}}
}
