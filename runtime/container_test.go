package runtime

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidateIDMatchesPattern checks the hand-written id check against
// the pattern it implements.
func TestValidateIDMatchesPattern(t *testing.T) {
	pattern := regexp.MustCompile(`^[A-Za-z0-9_+\-][A-Za-z0-9_+\-.]*$`)
	ids := []string{"a", "abc-1_2+3.4", ".hidden", "a.b", "-x", "+x", "_x", "x/y", "../x", "x y", "x\x00", "é", "A", "9",
		"x..y", "x.", ".", "..", strings.Repeat("a", 255), "tab\t", "new\nline", "\xff"}
	for _, id := range ids {
		want := pattern.MatchString(id)
		got := ValidateID(id) == nil
		if got != want {
			t.Errorf("ValidateID(%q) accepts: %v, pattern: %v", id, got, want)
		}
	}
	if ValidateID("") == nil || ValidateID(strings.Repeat("a", 256)) == nil {
		t.Error("empty and over-long ids must be refused")
	}
}
