package image

import (
	"slices"
	"sort"
	"strings"

	digest "github.com/opencontainers/go-digest"

	"github.com/tincan/tincan/errdefs"
)

// addImage writes img's record (merged with an existing record of the
// same id) and points tags at it, under the metadata lock.
func (s *Store) addImage(img *Image, tags []string) error {
	unlock, err := s.lockMeta()
	if err != nil {
		return err
	}
	defer unlock()
	if old, err := s.readImage(img.ID); err == nil {
		img.Added = old.Added // a pull of what is stored changes nothing
		img.RepoDigests = mergeSorted(old.RepoDigests, img.RepoDigests)
		for _, d := range old.Others {
			if !slices.Contains(img.Others, d) {
				img.Others = append(img.Others, d)
			}
		}
	}
	if err := s.writeImage(img); err != nil {
		return err
	}
	if len(tags) == 0 {
		return nil
	}
	n, err := s.readNames()
	if err != nil {
		return err
	}
	for _, t := range tags {
		n[t] = img.ID
	}
	return s.writeNames(n)
}

func mergeSorted(a, b []string) []string {
	out := append(append([]string(nil), a...), b...)
	sort.Strings(out)
	return slices.Compact(out)
}

// Lookup finds an image by name (short names through the search list),
// name@digest, or full or abbreviated id.
func (s *Store) Lookup(ref string) (*Image, error) {
	img, _, err := s.lookup(ref)
	return img, err
}

// lookup also returns the stored name ref matched ("" for an id).
func (s *Store) lookup(ref string) (*Image, string, error) {
	n, err := s.readNames()
	if err != nil {
		return nil, "", err
	}
	regs, err := s.Registries()
	if err != nil {
		return nil, "", err
	}
	cands, perr := regs.Candidates(ref)
	if perr == nil {
		for _, c := range cands {
			if c.Digest == "" {
				if id, ok := n[c.Tagged()]; ok {
					img, err := s.readImage(id)
					return img, c.Tagged(), err
				}
				continue
			}
			if img, err := s.byDigest(c); img != nil || err != nil {
				return img, "", err
			}
		}
	}
	if img, err := s.byID(ref); img != nil || err != nil {
		return img, "", err
	}
	if perr != nil && !looksLikeID(ref) {
		return nil, "", perr
	}
	return nil, "", errdefs.NotFound("image %s not found", ref)
}

// byDigest finds the image pulled as ref's name@digest, or whose manifest
// or index is ref's digest and that carries ref's name.
func (s *Store) byDigest(ref Reference) (*Image, error) {
	imgs, err := s.images()
	if err != nil {
		return nil, err
	}
	want := ref.Name() + "@" + ref.Digest.String()
	for _, img := range imgs {
		if slices.Contains(img.RepoDigests, want) {
			return img, nil
		}
	}
	return nil, nil
}

func looksLikeID(s string) bool {
	s = strings.TrimPrefix(s, "sha256:")
	if len(s) < 4 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// byID finds an image by full or unique abbreviated id (4+ hex digits).
func (s *Store) byID(ref string) (*Image, error) {
	if !looksLikeID(ref) {
		return nil, nil
	}
	prefix := strings.TrimPrefix(ref, "sha256:")
	if len(prefix) == 64 {
		img, err := s.readImage(digest.NewDigestFromEncoded(digest.SHA256, prefix))
		if errdefs.IsNotFound(err) {
			return nil, nil
		}
		return img, err
	}
	imgs, err := s.images()
	if err != nil {
		return nil, err
	}
	var found *Image
	for _, img := range imgs {
		if strings.HasPrefix(img.ID.Encoded(), prefix) {
			if found != nil {
				return nil, errdefs.InvalidArgument("image id %s is ambiguous", ref)
			}
			found = img
		}
	}
	return found, nil
}

// Names returns the names pointing at image id.
func (s *Store) Names(id digest.Digest) ([]string, error) {
	n, err := s.readNames()
	if err != nil {
		return nil, err
	}
	return n.of(id), nil
}

// Tag gives the image source finds the name target (a tag; ":latest"
// when it has none).
func (s *Store) Tag(source, target string) error {
	regs, err := s.Registries()
	if err != nil {
		return err
	}
	ref, _, err := ParseReference(target, regs.Default)
	if err != nil {
		return err
	}
	if ref.Digest != "" {
		return errdefs.InvalidArgument("tag %s: a tag cannot have a digest", target)
	}
	img, err := s.Lookup(source)
	if err != nil {
		return err
	}
	unlock, err := s.lockMeta()
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := s.readImage(img.ID); err != nil {
		return err // removed meanwhile
	}
	n, err := s.readNames()
	if err != nil {
		return err
	}
	n[ref.Tagged()] = img.ID
	return s.writeNames(n)
}

// Summary is one image with its names, for listings.
type Summary struct {
	*Image
	// Names are the tags pointing at it ("" for none: dangling).
	Names []string
}

// List returns every image with its names, newest first.
func (s *Store) List() ([]Summary, error) {
	imgs, err := s.images()
	if err != nil {
		return nil, err
	}
	n, err := s.readNames()
	if err != nil {
		return nil, err
	}
	out := make([]Summary, 0, len(imgs))
	for _, img := range imgs {
		out = append(out, Summary{Image: img, Names: n.of(img.ID)})
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Added.Equal(out[j].Added) {
			return out[i].Added.After(out[j].Added)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
