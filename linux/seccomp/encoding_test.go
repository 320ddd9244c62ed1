package seccomp

import (
	"bytes"
	"reflect"
	"testing"

	"golang.org/x/sys/unix"
)

func TestEncodingRoundTrip(t *testing.T) {
	p := mustCompile(t, dockerDefault(t))
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if want := 8*len(p.Filter) + 16; len(b) > want {
		t.Errorf("encoding is %d bytes; want at most %d for %d instructions", len(b), want, len(p.Filter))
	}
	var q Program
	if err := q.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, &q) {
		t.Fatal("decoded program differs")
	}

	notify := &Program{Filter: p.Filter, Notify: true,
		Flags: unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH}
	b, err = notify.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := q.UnmarshalBinary(b); err != nil || !reflect.DeepEqual(notify, &q) {
		t.Fatalf("notify program: %v, decoded %+v", err, q.Flags)
	}
}

func TestEncodingRejectsDamage(t *testing.T) {
	good, err := (&Program{Flags: unix.SECCOMP_FILTER_FLAG_TSYNC,
		Filter: []unix.SockFilter{{Code: opReturn, K: unix.SECCOMP_RET_ALLOW}}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":               nil,
		"magic":               edit(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version":             edit(func(b []byte) []byte { b[3] = 9; return b }),
		"unknown flag":        edit(func(b []byte) []byte { b[4] = 0x40; return b }),
		"notify without flag": edit(func(b []byte) []byte { b[5] = 1; return b }),
		"notify byte":         edit(func(b []byte) []byte { b[5] = 2; return b }),
		"zero instructions":   edit(func(b []byte) []byte { b[6] = 0; return b[:7] }),
		"short":               edit(func(b []byte) []byte { return b[:len(b)-1] }),
		"long":                edit(func(b []byte) []byte { return append(b, 0) }),
		"too many":            append(edit(func(b []byte) []byte { return b[:6] }), 0x81, 0x20),
	} {
		var p Program
		if err := p.UnmarshalBinary(b); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
	if _, err := (&Program{}).MarshalBinary(); err == nil {
		t.Error("encoded an empty program")
	}
}
