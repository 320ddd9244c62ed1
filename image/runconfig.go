package image

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
)

// PullPolicy says when `run` pulls its image.
type PullPolicy string

const (
	// PullAlways pulls every time (the registry decides what is new).
	PullAlways PullPolicy = "always"
	// PullMissing pulls when the image is not stored (docker's default).
	PullMissing PullPolicy = "missing"
	// PullNever uses only stored images.
	PullNever PullPolicy = "never"
)

// ParsePullPolicy parses --pull's value.
func ParsePullPolicy(s string) (PullPolicy, error) {
	switch p := PullPolicy(s); p {
	case PullAlways, PullMissing, PullNever:
		return p, nil
	case "":
		return PullMissing, nil
	}
	return "", errdefs.InvalidArgument("invalid --pull %q: always, missing or never", s)
}

// Get returns the image ref names, pulling it as policy says.
func (s *Store) Get(ctx context.Context, ref string, policy PullPolicy, opts PullOptions) (*Image, error) {
	if policy != PullAlways {
		img, err := s.Lookup(ref)
		if err == nil || !errdefs.IsNotFound(err) {
			return img, err
		}
		if policy == PullNever {
			return nil, errdefs.NotFound("image %s: not found locally (--pull never)", ref)
		}
	}
	img, _, err := s.Pull(ctx, ref, opts)
	return img, err
}

// Config reads an image's config.
func (s *Store) Config(img *Image) (ocispec.Image, error) {
	data, err := s.content.read(img.Config.Digest)
	if err != nil {
		return ocispec.Image{}, err
	}
	var c ocispec.Image
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("image %s: decode config: %w", img.ShortID(), err)
	}
	return c, nil
}

// RunOverrides are the run options that compete with the image config.
type RunOverrides struct {
	// Entrypoint replaces the image's when EntrypointSet (--entrypoint;
	// an empty one clears it).
	Entrypoint    []string
	EntrypointSet bool
	// Cmd are the arguments after the image name.
	Cmd []string
	// Env are KEY=VALUE settings, applied over the image's; a bare KEY
	// removes the image's KEY.
	Env []string
	// WorkingDir, User and StopSignal replace the image's when set.
	WorkingDir, User, StopSignal string
}

// RunConfig is what a container runs, the image config and the overrides
// merged by docker's rules.
type RunConfig struct {
	// Entrypoint and Cmd are what runs, Args the two joined.
	Entrypoint []string
	Cmd        []string
	Args       []string
	Env        []string
	WorkingDir string
	User       string
	// StopSignal is empty for the default (SIGTERM).
	StopSignal string
	// ExposedPorts ("80/tcp") and Volumes (container paths) from the
	// image, sorted.
	ExposedPorts []string
	Volumes      []string
	Labels       map[string]string
}

// defaultPath is the PATH docker gives containers whose image sets none.
const defaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// ResolveRunConfig merges an image config with run's options, as docker
// does: --entrypoint replaces the entrypoint and drops the image's Cmd;
// arguments replace Cmd; -e adds to or replaces the image's variables;
// -w, -u and --stop-signal replace the image's values; the working
// directory defaults to "/" and PATH to docker's default.
func ResolveRunConfig(cfg ocispec.ImageConfig, o RunOverrides) (RunConfig, error) {
	entrypoint, cmd := cfg.Entrypoint, cfg.Cmd
	if o.EntrypointSet {
		entrypoint, cmd = o.Entrypoint, nil
	}
	if len(o.Cmd) > 0 {
		cmd = o.Cmd
	}
	rc := RunConfig{
		Entrypoint: slices.Clone(entrypoint),
		Cmd:        slices.Clone(cmd),
		Args:       append(slices.Clone(entrypoint), cmd...),
		WorkingDir: firstNonEmpty(o.WorkingDir, cfg.WorkingDir, "/"),
		User:       firstNonEmpty(o.User, cfg.User),
		StopSignal: firstNonEmpty(o.StopSignal, cfg.StopSignal),
		Labels:     maps.Clone(cfg.Labels),
	}
	if len(rc.Args) == 0 {
		return rc, errdefs.InvalidArgument("no command specified: the image has no Entrypoint or Cmd; give one after the image name")
	}
	rc.Env = mergeEnv(cfg.Env, o.Env)
	rc.ExposedPorts = slices.Sorted(maps.Keys(cfg.ExposedPorts))
	rc.Volumes = slices.Sorted(maps.Keys(cfg.Volumes))
	return rc, nil
}

// mergeEnv applies overrides to base by key, keeping base's order (a bare
// KEY removes KEY, as docker's -e KEY does when the caller has no KEY),
// and adds docker's PATH when neither sets one.
func mergeEnv(base, overrides []string) []string {
	out := slices.Clone(base)
	for _, kv := range overrides {
		k, _, set := strings.Cut(kv, "=")
		i := slices.IndexFunc(out, func(e string) bool { ek, _, _ := strings.Cut(e, "="); return ek == k })
		switch {
		case !set && i >= 0:
			out = slices.Delete(out, i, i+1)
		case !set:
		case i >= 0:
			out[i] = kv
		default:
			out = append(out, kv)
		}
	}
	if !slices.ContainsFunc(out, func(e string) bool { return strings.HasPrefix(e, "PATH=") }) {
		out = append([]string{defaultPath}, out...)
	}
	return out
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
