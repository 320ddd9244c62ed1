package image

import (
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/tincan/tincan/errdefs"
)

// Reference is a parsed, fully qualified image reference:
// Domain/Path[:Tag][@Digest].
type Reference struct {
	// Domain is the registry host[:port] ("docker.io" for Docker Hub).
	Domain string
	// Path is the repository path ("library/alpine").
	Path string
	// Tag is the tag; "latest" when neither a tag nor a digest was given.
	Tag string
	// Digest pins the manifest (or index); may come with a tag.
	Digest digest.Digest
}

// DockerHub is Docker Hub's canonical domain; "index.docker.io" and
// "registry-1.docker.io" normalise to it.
const DockerHub = "docker.io"

// maxNameLength bounds Domain/Path, as docker does.
const maxNameLength = 255

// ParseReference parses s and qualifies it as docker does: a name without
// a registry gets defaultDomain (docker.io when empty), a one-component
// Docker Hub name gets "library/", and no tag or digest means ":latest".
// short reports that s named no registry (so a search list may apply).
func ParseReference(s, defaultDomain string) (ref Reference, short bool, err error) {
	if defaultDomain == "" {
		defaultDomain = DockerHub
	}
	bad := func(why string) (Reference, bool, error) {
		return Reference{}, false, errdefs.InvalidArgument("invalid reference %q: %s", s, why)
	}
	if s == "" {
		return bad("empty")
	}
	if isHexID(s) {
		return bad("64-character hexadecimal strings are image ids, not names")
	}
	name := s
	if i := strings.IndexByte(name, '@'); i >= 0 {
		d, err := digest.Parse(name[i+1:])
		if err != nil {
			return bad("bad digest: " + err.Error())
		}
		ref.Digest = d
		name = name[:i]
	}
	// A tag is after the last ':' that follows the last '/' (a ':' before
	// it is a port).
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		ref.Tag = name[i+1:]
		name = name[:i]
		if !validTag(ref.Tag) {
			return bad("bad tag " + ref.Tag)
		}
	}
	ref.Domain, ref.Path, short = splitDomain(name, defaultDomain)
	if ref.Domain != "" && !validDomain(ref.Domain) {
		return bad("bad registry " + ref.Domain)
	}
	if ref.Path == "" {
		return bad("no repository")
	}
	for _, c := range strings.Split(ref.Path, "/") {
		if !validPathComponent(c) {
			if strings.ToLower(c) != c {
				return bad("repository names must be lowercase")
			}
			return bad("bad repository component " + c)
		}
	}
	if len(ref.Domain)+1+len(ref.Path) > maxNameLength {
		return bad("name longer than 255 characters")
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = "latest"
	}
	return ref, short, nil
}

// splitDomain separates the registry from the repository path: the first
// component is a registry when it has a '.' or ':', is "localhost", or
// has uppercase letters (which a path may not).
func splitDomain(name, defaultDomain string) (domain, path string, short bool) {
	i := strings.IndexByte(name, '/')
	if i < 0 || (!strings.ContainsAny(name[:i], ".:") && name[:i] != "localhost" && strings.ToLower(name[:i]) == name[:i]) {
		domain, path, short = defaultDomain, name, true
	} else {
		domain, path = name[:i], name[i+1:]
	}
	if domain == "index.docker.io" || domain == "registry-1.docker.io" {
		domain = DockerHub
	}
	if domain == DockerHub && !strings.ContainsRune(path, '/') {
		path = "library/" + path
	}
	return domain, path, short
}

// Name is Domain/Path.
func (r Reference) Name() string { return r.Domain + "/" + r.Path }

// String is the full reference.
func (r Reference) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}

// Tagged is Name:Tag ("" without a tag).
func (r Reference) Tagged() string {
	if r.Tag == "" {
		return ""
	}
	return r.Name() + ":" + r.Tag
}

// FamiliarName is the name as docker prints it: Docker Hub's domain and
// "library/" left out.
func (r Reference) FamiliarName() string {
	if r.Domain != DockerHub {
		return r.Name()
	}
	return strings.TrimPrefix(r.Path, "library/")
}

// pinned returns the reference with the digest d and no tag.
func (r Reference) pinned(d digest.Digest) Reference {
	return Reference{Domain: r.Domain, Path: r.Path, Digest: d}
}

// parseStored parses a reference this package wrote (already qualified).
func parseStored(s string) (Reference, error) {
	ref, _, err := ParseReference(s, DockerHub)
	return ref, err
}
