package caps

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func TestKnownAndParseRoundTrip(t *testing.T) {
	known := Known()
	if len(known) != 41 || known[0] != "CAP_CHOWN" || known[21] != "CAP_SYS_ADMIN" || known[40] != "CAP_CHECKPOINT_RESTORE" {
		t.Fatalf("Known() has %d names, not CAP_CHOWN..CAP_CHECKPOINT_RESTORE in number order", len(known))
	}
	for i, name := range known {
		for _, spelling := range []string{name, strings.ToLower(name), strings.TrimPrefix(name, "CAP_"), strings.ToLower(strings.TrimPrefix(name, "CAP_"))} {
			c, err := Parse(spelling)
			if err != nil || c != Cap(i) {
				t.Errorf("Parse(%q) = %d, %v; want %d", spelling, c, err, i)
			}
		}
		if got := Cap(i).String(); got != name {
			t.Errorf("Cap(%d).String() = %q, want %q", i, got, name)
		}
	}
	known[0] = "changed"
	if Known()[0] != "CAP_CHOWN" {
		t.Error("Known returns the package's own array")
	}
	if got := Cap(41).String(); got != "CAP_41" {
		t.Errorf("String of an unnamed capability: %q", got)
	}
}

func TestParseUnknown(t *testing.T) {
	for _, name := range []string{"CAP_TEST", "", "CAP_", "CAP_SYS_ADMIN ", "ALL"} {
		_, err := Parse(name)
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), strconv.Quote(name)) {
			t.Errorf("Parse(%q): %v, want an invalid-argument error naming it", name, err)
		}
	}
}

func TestLastCapMatchesKernel(t *testing.T) {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Skipf("no /proc/sys/kernel/cap_last_cap: %v", err)
	}
	want, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if got := LastCap(); got != Cap(want) {
		t.Errorf("LastCap() = %d, kernel says %d", got, want)
	}
	// The fallback for a missing /proc must agree with the file.
	if got, ok := probeLastCap(); !ok || got != Cap(want) {
		t.Errorf("probeLastCap() = %d, %v; kernel says %d", got, ok, want)
	}
}
