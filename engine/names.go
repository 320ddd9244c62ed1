package engine

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"regexp"

	"github.com/tincan/tincan/errdefs"
)

// newID returns a random 64-hex-digit container id.
func newID() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate container id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]*$`)

// validateName checks a user-given container name.
func validateName(name string) error {
	if !namePattern.MatchString(name) || len(name) > 128 {
		return errdefs.InvalidArgument("invalid container name %q: use letters, digits, '_', '.' and '-', starting with a letter or digit (at most 128)", name)
	}
	return nil
}

// Words for generated names: tin-can themes, so a name reads like a label.
var (
	nameAdjectives = [...]string{
		"amber", "brisk", "calm", "dented", "eager", "fizzy", "gleaming", "hardy",
		"jolly", "keen", "lucid", "mellow", "nimble", "plucky", "quiet", "rusty",
		"shiny", "sturdy", "tidy", "upbeat", "vivid", "witty", "zesty", "sealed",
	}
	nameNouns = [...]string{
		"anchovy", "bean", "cherry", "chowder", "corn", "lentil", "mackerel", "olive",
		"peach", "pear", "pickle", "pineapple", "sardine", "soup", "tomato", "tuna",
		"biscuit", "cocoa", "ginger", "herring", "mango", "oyster", "pepper", "salmon",
	}
)

func pick(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// generateName returns a name not in taken ("plucky_sardine"), adding a
// number when the plain combinations are in use.
func generateName(taken map[string]bool) string {
	for i := 0; ; i++ {
		name := nameAdjectives[pick(len(nameAdjectives))] + "_" + nameNouns[pick(len(nameNouns))]
		if i > 20 {
			name = fmt.Sprintf("%s%d", name, pick(1000))
		}
		if !taken[name] {
			return name
		}
	}
}
