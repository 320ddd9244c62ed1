package image

import (
	"runtime"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
)

func TestPlatforms(t *testing.T) {
	for in, want := range map[string]string{
		"": "linux/" + runtime.GOARCH, "linux/amd64": "linux/amd64", "arm64": "linux/arm64",
		"linux/aarch64": "linux/arm64", "linux/arm64/v8": "linux/arm64", "Linux/ARM/v7": "linux/arm/v7",
		"linux/x86_64": "linux/amd64",
	} {
		p, err := ParsePlatform(in)
		if err != nil || PlatformString(p) != want {
			t.Errorf("ParsePlatform(%q) = %s, %v; want %s", in, PlatformString(p), err, want)
		}
	}
	for _, in := range []string{"a/b/c/d", "/amd64", "linux/", "linux/arm/"} {
		if _, err := ParsePlatform(in); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParsePlatform(%q): %v", in, err)
		}
	}
	idx := ocispec.Index{Manifests: []ocispec.Descriptor{
		{Digest: "sha256:a", Platform: &ocispec.Platform{OS: "unknown", Architecture: "unknown"}},
		{Digest: "sha256:b", Platform: &ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v6"}},
		{Digest: "sha256:c", Platform: &ocispec.Platform{OS: "linux", Architecture: "arm", Variant: "v7"}},
		{Digest: "sha256:d", Platform: &ocispec.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}},
		{Digest: "sha256:e", Platform: &ocispec.Platform{OS: "linux", Architecture: "amd64"}},
	}}
	for want, digest := range map[string]string{"linux/arm/v7": "sha256:c", "linux/arm": "sha256:b", "linux/arm64": "sha256:d", "linux/amd64": "sha256:e"} {
		p, _ := ParsePlatform(want)
		got, err := selectManifest(idx, p)
		if err != nil || string(got.Digest) != digest {
			t.Errorf("select %s: %s, %v; want %s", want, got.Digest, err, digest)
		}
	}
	p, _ := ParsePlatform("linux/s390x")
	if _, err := selectManifest(idx, p); !errdefs.IsNotFound(err) {
		t.Errorf("a missing platform: %v", err)
	}
}
