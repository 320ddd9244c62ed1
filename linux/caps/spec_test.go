package caps

import (
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

func TestFromSpec(t *testing.T) {
	c := &specs.LinuxCapabilities{
		Bounding:    []string{"CAP_CHOWN", "CAP_KILL", "CAP_BPF"},
		Effective:   []string{"CAP_KILL", "cap_bpf"},
		Permitted:   []string{"KILL"},
		Inheritable: []string{"CAP_KILL"},
		Ambient:     []string{"CAP_KILL"},
	}
	s, warnings, err := fromSpec(c, 40)
	if err != nil {
		t.Fatal(err)
	}
	want := Set{
		Bounding:    []Cap{0, 5, 39},
		Effective:   []Cap{5, 39},
		Permitted:   []Cap{5},
		Inheritable: []Cap{5},
		Ambient:     []Cap{5},
	}
	if !reflect.DeepEqual(s, want) || len(warnings) != 0 {
		t.Errorf("got %+v %q, want %+v", s, warnings, want)
	}

	// On a kernel whose last capability is CAP_PERFMON (38), CAP_BPF is
	// dropped with a warning for each field that named it.
	s, warnings, err = fromSpec(c, 38)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Bounding, []Cap{0, 5}) || !reflect.DeepEqual(s.Effective, []Cap{5}) {
		t.Errorf("CAP_BPF kept on an older kernel: %+v", s)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "process.capabilities.bounding") ||
		!strings.Contains(warnings[0], "CAP_BPF") || !strings.Contains(warnings[1], "process.capabilities.effective") {
		t.Errorf("warnings %q", warnings)
	}
}

// runc's default config lists ambient capabilities but no inheritable
// ones; the kernel cannot raise those, so they are dropped (silently, as
// runc does).
func TestFromSpecAmbientNeedsPermittedAndInheritable(t *testing.T) {
	c := &specs.LinuxCapabilities{
		Permitted:   []string{"CAP_KILL", "CAP_CHOWN"},
		Inheritable: []string{"CAP_KILL", "CAP_AUDIT_WRITE"},
		Ambient:     []string{"CAP_KILL", "CAP_CHOWN", "CAP_AUDIT_WRITE"},
	}
	s, warnings, err := fromSpec(c, 40)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Ambient, []Cap{5}) {
		t.Errorf("ambient %v, want only CAP_KILL", s.Ambient)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q", warnings)
	}
}

func TestFromSpecUnknownName(t *testing.T) {
	tests := []struct {
		caps specs.LinuxCapabilities
		want string
	}{
		{specs.LinuxCapabilities{Bounding: []string{"CAP_CHOWN", "CAP_TEST"}}, `process.capabilities.bounding: unknown capability "CAP_TEST"`},
		{specs.LinuxCapabilities{Ambient: []string{"CAP_NOPE"}}, `process.capabilities.ambient: unknown capability "CAP_NOPE"`},
	}
	for _, tt := range tests {
		_, _, err := FromSpec(&tt.caps)
		if !errdefs.IsInvalidArgument(err) || err.Error() != tt.want {
			t.Errorf("got %v, want invalid argument %q", err, tt.want)
		}
	}
}

func TestFromSpecNil(t *testing.T) {
	s, warnings, err := FromSpec(nil)
	if err != nil || warnings != nil || !reflect.DeepEqual(s, Set{}) {
		t.Errorf("FromSpec(nil) = %+v, %q, %v", s, warnings, err)
	}
}

func TestMaskRoundTrip(t *testing.T) {
	caps := []Cap{0, 7, 31, 32, 40}
	m := mask(caps)
	if m != 1|1<<7|1<<31|1<<32|1<<40 {
		t.Errorf("mask %#x", m)
	}
	if got := fromMask(m); !reflect.DeepEqual(got, caps) {
		t.Errorf("fromMask gave %v", got)
	}
}
