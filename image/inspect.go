package image

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/tincan/tincan/errdefs"
)

// InspectView is `inspect IMAGE`'s document, shaped like docker's.
type InspectView struct {
	ID             string          `json:"Id"`
	RepoTags       []string        `json:"RepoTags"`
	RepoDigests    []string        `json:"RepoDigests"`
	Digest         string          `json:"Digest"`
	MediaType      string          `json:"MediaType"`
	Created        string          `json:"Created,omitempty"`
	Author         string          `json:"Author,omitempty"`
	Architecture   string          `json:"Architecture"`
	Os             string          `json:"Os"`
	Variant        string          `json:"Variant,omitempty"`
	Size           int64           `json:"Size"`
	Config         json.RawMessage `json:"Config"`
	RootFS         inspectRootFS   `json:"RootFS"`
	GraphDriver    inspectDriver   `json:"GraphDriver"`
	Metadata       inspectMetadata `json:"Metadata"`
	Platform       string          `json:"Platform"`
	IndexDigest    string          `json:"IndexDigest,omitempty"`
	CompressedSize int64           `json:"CompressedSize"`
}

type inspectRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

type inspectDriver struct {
	Name string            `json:"Name"`
	Data map[string]string `json:"Data"`
}

type inspectMetadata struct {
	Added time.Time `json:"Added"`
}

// Inspect describes the image ref names.
func (s *Store) Inspect(ref string) (*InspectView, error) {
	img, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	data, err := s.content.read(img.Config.Digest)
	if err != nil {
		return nil, err
	}
	var raw struct {
		Author string          `json:"author"`
		Config json.RawMessage `json:"config"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, errdefs.InvalidArgument("image %s: decode config: %v", img.ShortID(), err)
	}
	names, err := s.Names(img.ID)
	if err != nil {
		return nil, err
	}
	v := &InspectView{
		ID: img.ID.String(), RepoTags: make([]string, 0, len(names)), RepoDigests: img.RepoDigests,
		Digest: img.Digest.String(), MediaType: img.MediaType, Author: raw.Author,
		Architecture: img.Platform.Architecture, Os: img.Platform.OS, Variant: img.Platform.Variant,
		Size: img.Size(), Config: raw.Config, Platform: PlatformString(img.Platform),
		RootFS:      inspectRootFS{Type: "layers", Layers: make([]string, 0, len(img.Layers))},
		GraphDriver: inspectDriver{Name: s.snap.Name(), Data: map[string]string{}},
		Metadata:    inspectMetadata{Added: img.Added},
	}
	if v.RepoDigests == nil {
		v.RepoDigests = []string{}
	}
	if len(v.Config) == 0 {
		v.Config = json.RawMessage("{}")
	}
	for _, n := range names {
		if r, err := parseStored(n); err == nil {
			v.RepoTags = append(v.RepoTags, r.FamiliarString())
		}
	}
	if !img.Created.IsZero() {
		v.Created = img.Created.Format(time.RFC3339Nano)
	}
	if img.Index != nil {
		v.IndexDigest = img.Index.Digest.String()
	}
	for _, l := range img.Layers {
		v.RootFS.Layers = append(v.RootFS.Layers, l.DiffID.String())
		v.CompressedSize += l.Size
	}
	if chain := img.ChainIDs(); len(chain) > 0 {
		if dirs, err := s.snap.Layers(chain[len(chain)-1].Encoded()); err == nil {
			v.GraphDriver.Data["LowerDir"] = strings.Join(dirs, ":")
		}
	}
	return v, nil
}

// HistoryEntry is one step of an image's history, newest first.
type HistoryEntry struct {
	// ID is the image id for the newest step, "" (docker's <missing>)
	// for the others.
	ID         string    `json:"id"`
	Created    time.Time `json:"created,omitzero"`
	CreatedBy  string    `json:"createdBy"`
	Size       int64     `json:"size"`
	Comment    string    `json:"comment,omitempty"`
	EmptyLayer bool      `json:"emptyLayer,omitempty"`
}

// History returns the config's history with each step's layer size,
// newest first.
func (s *Store) History(ref string) ([]HistoryEntry, error) {
	img, err := s.Lookup(ref)
	if err != nil {
		return nil, err
	}
	cfg, err := s.Config(img)
	if err != nil {
		return nil, err
	}
	var out []HistoryEntry
	layer := 0
	for _, h := range cfg.History {
		e := HistoryEntry{CreatedBy: h.CreatedBy, Comment: h.Comment, EmptyLayer: h.EmptyLayer}
		if h.Created != nil {
			e.Created = *h.Created
		}
		if !h.EmptyLayer && layer < len(img.Layers) {
			e.Size = img.Layers[layer].DiffSize
			layer++
		}
		out = append(out, e)
	}
	// Layers the history does not account for (images built without it).
	for ; layer < len(img.Layers); layer++ {
		out = append(out, HistoryEntry{Size: img.Layers[layer].DiffSize, Created: img.Created})
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > 0 {
		out[0].ID = img.ID.String()
	}
	return out, nil
}
