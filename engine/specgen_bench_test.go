package engine

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/spec/seccompprofile"
)

// BenchmarkBuildSpec measures what `tincan run` spends making the OCI
// config: docker-like defaults, the user looked up in the rootfs, and the
// default seccomp profile resolved for the capability set.
func BenchmarkBuildSpec(b *testing.B) {
	root := b.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		b.Fatal(err)
	}
	passwd := "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
	if err := os.WriteFile(filepath.Join(root, "etc/passwd"), []byte(passwd), 0o644); err != nil {
		b.Fatal(err)
	}
	rec := &Record{
		ID:   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Name: "bench",
		Config: RunConfig{
			Rootfs:    root,
			Cmd:       []string{"/bin/true"},
			Env:       []string{"A=1", "B=2"},
			Resources: Resources{Memory: 64 << 20},
			Network:   "none",
		},
	}
	in := specInputs{
		rootfs:     root,
		lookupRoot: root,
		bundle:     b.TempDir(),
		initBinary: "/proc/self/exe",
		seccomp: func(caps []string) (*specs.LinuxSeccomp, error) {
			return seccompprofile.ForCaps(caps, runtime.GOARCH), nil
		},
	}
	b.ReportAllocs()
	for b.Loop() {
		s, err := buildSpec(rec, in)
		if err != nil {
			b.Fatal(err)
		}
		if s.Linux.Seccomp == nil || len(s.Process.Args) != 1 {
			b.Fatalf("unexpected spec: seccomp %v, args %v", s.Linux.Seccomp != nil, s.Process.Args)
		}
	}
}
