package landlock

import (
	"errors"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

const allFS = 1<<16 - 1

func mustParse(t *testing.T, s string) *Config {
	t.Helper()
	c, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNegotiateByABI(t *testing.T) {
	c := mustParse(t, `{"fs": [{"allow": ["read", "write"], "paths": ["/tmp"]}],
		"net": {"bindTCP": [80, 80], "connectTCP": [443]}, "scope": ["signal"]}`)
	for _, tc := range []struct {
		abi             int
		fs, net, scoped uint64
		ports, warnings int
		warningHas      string
	}{
		{7, allFS, 3, 2, 2, 0, ""},
		{6, allFS, 3, 2, 2, 0, ""},
		{5, allFS, 3, 0, 2, 1, "scope signal is not enforced"},
		{4, allFS &^ (1 << 15), 3, 0, 2, 2, "ioctl-dev (ABI 5)"},
		{3, allFS &^ (1 << 15), 0, 0, 0, 3, "TCP port rules are not enforced"},
		{2, allFS &^ (1<<15 | 1<<14), 0, 0, 0, 3, "truncate (ABI 3)"},
		{1, allFS &^ (1<<15 | 1<<14 | 1<<13), 0, 0, 0, 4, "cannot allow \"refer\""},
	} {
		p, warnings, err := c.Negotiate(tc.abi)
		if err != nil {
			t.Fatalf("ABI %d: %v", tc.abi, err)
		}
		if p.HandledFS != tc.fs || p.HandledNet != tc.net || p.Scoped != tc.scoped || len(p.Ports) != tc.ports {
			t.Errorf("ABI %d: fs %#x net %#x scoped %#x ports %v, want %#x %#x %#x and %d ports",
				tc.abi, p.HandledFS, p.HandledNet, p.Scoped, p.Ports, tc.fs, tc.net, tc.scoped, tc.ports)
		}
		if len(warnings) != tc.warnings || (tc.warningHas != "" && !strings.Contains(strings.Join(warnings, "\n"), tc.warningHas)) {
			t.Errorf("ABI %d: warnings %q, want %d with %q", tc.abi, warnings, tc.warnings, tc.warningHas)
		}
		// What a rule allows is never more than the ruleset handles.
		for _, r := range p.Paths {
			if r.Access&^p.HandledFS != 0 {
				t.Errorf("ABI %d: rule %+v allows unhandled rights", tc.abi, r)
			}
		}
	}
}

func TestNegotiateWithoutLandlock(t *testing.T) {
	p, warnings, err := mustParse(t, `{"fs": []}`).Negotiate(0)
	if err != nil || !p.Empty() || len(warnings) != 1 || !strings.Contains(warnings[0], "no Landlock") {
		t.Fatalf("best effort without Landlock: %+v, %q, %v", p, warnings, err)
	}
	_, _, err = mustParse(t, `{"fs": [], "compatibility": "hard-requirement"}`).Negotiate(0)
	if !errors.Is(err, errdefs.ErrUnsupported) || !strings.Contains(err.Error(), Annotation) {
		t.Fatalf("hard requirement without Landlock: %v, want unsupported naming the annotation", err)
	}
}

func TestNegotiateHardRequirement(t *testing.T) {
	c := mustParse(t, `{"net": {"connectTCP": [443]}, "compatibility": "hard-requirement"}`)
	if _, _, err := c.Negotiate(3); !errors.Is(err, errdefs.ErrUnsupported) || !strings.Contains(err.Error(), "TCP port rules") {
		t.Fatalf("ABI 3: %v", err)
	}
	if p, w, err := c.Negotiate(4); err != nil || len(w) != 0 || p.HandledFS != 0 || p.HandledNet != 3 {
		t.Fatalf("ABI 4: %+v %q %v", p, w, err)
	}
}

func TestNegotiateKeepsOnlyWhatIsAsked(t *testing.T) {
	p, _, err := mustParse(t, `{"net": {"bindTCP": [8080]}}`).Negotiate(7)
	if err != nil {
		t.Fatal(err)
	}
	if p.HandledFS != 0 || p.Scoped != 0 || len(p.Paths) != 0 {
		t.Fatalf("a net-only config restricts more: %+v", p)
	}
}
