package runtime

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/spec"
)

// BenchmarkStateIO measures one state.json write (encode, temporary file,
// rename) and one read back (read, decode) of a container whose state
// holds runc's default config, as every verb does at least once.
func BenchmarkStateIO(b *testing.B) {
	dir := b.TempDir()
	c := &Container{id: "bench", dir: dir, state: &State{
		OCIVersion: specs.Version,
		ID:         "bench",
		Status:     Created,
		Pid:        1234,
		Bundle:     "/run/bundle",
		Config:     spec.Default(),
	}}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.saveState(); err != nil {
			b.Fatal(err)
		}
		s, err := readState(dir)
		if err != nil {
			b.Fatal(err)
		}
		if s.Pid != 1234 || s.Config == nil {
			b.Fatalf("read back %+v", s)
		}
	}
}
