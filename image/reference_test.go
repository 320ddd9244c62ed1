package image

import (
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func TestParseReference(t *testing.T) {
	const d = "sha256:" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		in, want, familiar string
		short              bool
	}{
		{"alpine", "docker.io/library/alpine:latest", "alpine:latest", true},
		{"alpine:3.20", "docker.io/library/alpine:3.20", "alpine:3.20", true},
		{"library/alpine:3.20", "docker.io/library/alpine:3.20", "alpine:3.20", true},
		{"docker.io/alpine", "docker.io/library/alpine:latest", "alpine:latest", false},
		{"index.docker.io/library/alpine", "docker.io/library/alpine:latest", "alpine:latest", false},
		{"user/app", "docker.io/user/app:latest", "user/app:latest", true},
		{"localhost/app", "localhost/app:latest", "localhost/app:latest", false},
		{"localhost:5000/app:v1", "localhost:5000/app:v1", "localhost:5000/app:v1", false},
		{"127.0.0.1:5000/a/b/c@" + d, "127.0.0.1:5000/a/b/c@" + d, "127.0.0.1:5000/a/b/c@" + d, false},
		{"host:5000/repo:tag@" + d, "host:5000/repo:tag@" + d, "host:5000/repo:tag@" + d, false},
		{"quay.io/a-b/c_d.e__f:v1.2-rc_3", "quay.io/a-b/c_d.e__f:v1.2-rc_3", "quay.io/a-b/c_d.e__f:v1.2-rc_3", false},
		{"[::1]:5000/app", "[::1]:5000/app:latest", "[::1]:5000/app:latest", false},
		{"Registry.Example/app", "Registry.Example/app:latest", "Registry.Example/app:latest", false},
		{"a---b/c", "docker.io/a---b/c:latest", "a---b/c:latest", true},
	} {
		ref, short, err := ParseReference(tc.in, "")
		if err != nil {
			t.Errorf("ParseReference(%q): %v", tc.in, err)
			continue
		}
		if ref.String() != tc.want || ref.FamiliarString() != tc.familiar || short != tc.short {
			t.Errorf("ParseReference(%q) = %s (%s, short %v); want %s (%s, short %v)",
				tc.in, ref, ref.FamiliarString(), short, tc.want, tc.familiar, tc.short)
		}
	}
	for _, in := range []string{
		"", "UPPER", "Bad/Name", "a//b", "a/", "/a", "-a", "a-", "a..b", "a___b", "a:", "a:-tag",
		"a@sha256:abc", "a@md5:" + strings.Repeat("0", 32), "a:" + strings.Repeat("t", 129),
		strings.Repeat("0123456789abcdef", 4), "host:port/a", "ho_st:5000/a", "a b", "a/b:c/d",
		strings.Repeat("a", 256),
	} {
		if ref, _, err := ParseReference(in, ""); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParseReference(%q) = %v, %v; want an invalid-argument error", in, ref, err)
		}
	}
}

func TestDefaultDomain(t *testing.T) {
	ref, short, err := ParseReference("app", "registry.local:5000")
	if err != nil || ref.String() != "registry.local:5000/app:latest" || !short {
		t.Fatalf("short name with a default registry: %s %v %v", ref, short, err)
	}
	ref, _, _ = ParseReference("alpine", "docker.io")
	if ref.Path != "library/alpine" {
		t.Fatalf("docker.io short name: %s", ref)
	}
}

// FuzzParseReference: whatever parses prints back as a reference that
// parses to the same thing, and is never a short name the second time.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"alpine", "a/b:c", "localhost:5000/x@sha256:" + strings.Repeat("a", 64), "[::1]/x", "A/b", "x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, _, err := ParseReference(s, "")
		if err != nil {
			return
		}
		again, short, err := ParseReference(ref.String(), "")
		if err != nil || again != ref || short {
			t.Fatalf("%q parsed to %q, which reparses to %q (short %v, %v)", s, ref, again, short, err)
		}
	})
}
