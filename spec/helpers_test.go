package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// newBundle returns a bundle directory holding an empty rootfs directory,
// removed when the test ends.
func newBundle(t testing.TB) string {
	t.Helper()
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, "rootfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	return bundle
}

// writeConfig writes data as the bundle's config.json.
func writeConfig(t testing.TB, bundle string, data []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(bundle, ConfigFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
