package landlock

import (
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func TestParseValid(t *testing.T) {
	c, err := Parse(`{"fs": [{"allow": ["read", "execute"], "paths": ["/usr", "/bin"]},
		{"allow": ["write-file"], "paths": ["/tmp"]}],
		"net": {"bindTCP": [8080], "connectTCP": [443]},
		"scope": ["signal"], "compatibility": "hard-requirement"}`)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.FS) != 2 || c.Net.BindTCP[0] != 8080 || c.Scope[0] != "signal" || c.Compatibility != hardRequirement {
		t.Fatalf("parsed %+v", c)
	}
	// An empty fs list is a valid, total denial of file access.
	if _, err := Parse(`{"fs": []}`); err != nil {
		t.Fatal(err)
	}
}

func TestParseErrors(t *testing.T) {
	for in, want := range map[string]string{
		`not json`:               "invalid character",
		`{}`:                     "restricts nothing",
		`{"fs": [], "extra": 1}`: `unknown field "extra"`,
		`{"fs": []} {}`:          "text after the JSON object",
		`{"fs": [{"allow": ["read"], "paths": ["tmp"]}]}`: `fs[0].paths[0]: "tmp" is not an absolute path`,
		`{"fs": [{"allow": ["read"], "paths": []}]}`:      "fs[0].paths: empty",
		`{"fs": [{"allow": [], "paths": ["/"]}]}`:         "fs[0].allow: empty",
		`{"fs": [{"allow": ["fly"], "paths": ["/"]}]}`:    `fs[0].allow: unknown access "fly"`,
		`{"net": {"bindTCP": [0]}}`:                       "net: port 0",
		`{"net": {"bindTCP": [70000]}}`:                   "cannot unmarshal",
		`{"scope": ["ptrace"]}`:                           `scope[0]: unknown scope "ptrace"`,
		`{"fs": [], "compatibility": "sometimes"}`:        `compatibility: "sometimes"`,
	} {
		_, err := Parse(in)
		if err == nil {
			t.Errorf("Parse(%s) succeeded", in)
			continue
		}
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "annotation "+Annotation+": ") {
			t.Errorf("Parse(%s) = %v, want an invalid argument naming the annotation and %q", in, err, want)
		}
	}
}

func TestFromAnnotations(t *testing.T) {
	c, err := FromAnnotations(map[string]string{"other": "x"})
	if c != nil || err != nil {
		t.Fatalf("without the annotation: %+v, %v", c, err)
	}
	if _, err := FromAnnotations(map[string]string{Annotation: "{"}); err == nil {
		t.Fatal("a bad annotation parsed")
	}
}

func TestAccessMask(t *testing.T) {
	for _, c := range []struct {
		names []string
		want  uint64
	}{
		{[]string{"read"}, 1<<2 | 1<<3},
		{[]string{"execute"}, 1},
		{[]string{"read", "read-file"}, 1<<2 | 1<<3},
		{[]string{"write"}, 1<<1 | 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8 | 1<<9 | 1<<10 | 1<<11 | 1<<12 | 1<<13 | 1<<14},
		{[]string{"ioctl-dev", "truncate"}, 1<<15 | 1<<14},
	} {
		got, err := accessMask(c.names)
		if err != nil || got != c.want {
			t.Errorf("accessMask(%v) = %#x, %v, want %#x", c.names, got, err, c.want)
		}
	}
}
