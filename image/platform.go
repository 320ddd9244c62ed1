package image

import (
	"runtime"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
)

// ParsePlatform parses "os/arch[/variant]" (or "arch" alone, meaning
// linux); empty is this host's platform.
func ParsePlatform(s string) (ocispec.Platform, error) {
	if s == "" {
		return ocispec.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}, nil
	}
	parts := strings.Split(strings.ToLower(s), "/")
	var p ocispec.Platform
	switch len(parts) {
	case 1:
		p = ocispec.Platform{OS: "linux", Architecture: parts[0]}
	case 2:
		p = ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	case 3:
		p = ocispec.Platform{OS: parts[0], Architecture: parts[1], Variant: parts[2]}
	default:
		return p, errdefs.InvalidArgument("invalid platform %q: want os/arch[/variant]", s)
	}
	if p.OS == "" || p.Architecture == "" || (len(parts) == 3 && p.Variant == "") {
		return p, errdefs.InvalidArgument("invalid platform %q: want os/arch[/variant]", s)
	}
	return normalizePlatform(p), nil
}

// normalizePlatform spells architectures as Go and the OCI spec do.
func normalizePlatform(p ocispec.Platform) ocispec.Platform {
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	case "i386", "i686":
		p.Architecture = "386"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	}
	if p.Architecture == "arm64" && p.Variant == "v8" {
		p.Variant = ""
	}
	return p
}

// PlatformString is "os/arch[/variant]".
func PlatformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// matchPlatform reports whether have satisfies want: same OS and
// architecture, and the same variant when want names one.
func matchPlatform(want, have ocispec.Platform) bool {
	want, have = normalizePlatform(want), normalizePlatform(have)
	return want.OS == have.OS && want.Architecture == have.Architecture &&
		(want.Variant == "" || want.Variant == have.Variant)
}

// selectManifest picks want's manifest from an index: an exact variant
// match first, then any match.
func selectManifest(idx ocispec.Index, want ocispec.Platform) (ocispec.Descriptor, error) {
	var found *ocispec.Descriptor
	var available []string
	for i, m := range idx.Manifests {
		if m.Platform == nil {
			continue
		}
		if m.Platform.OS == "unknown" { // attestations
			continue
		}
		available = append(available, PlatformString(*m.Platform))
		if !matchPlatform(want, *m.Platform) {
			continue
		}
		if normalizePlatform(*m.Platform).Variant == normalizePlatform(want).Variant {
			return idx.Manifests[i], nil
		}
		if found == nil {
			found = &idx.Manifests[i]
		}
	}
	if found != nil {
		return *found, nil
	}
	return ocispec.Descriptor{}, errdefs.NotFound("no image for platform %s (available: %s)",
		PlatformString(want), strings.Join(available, ", "))
}
