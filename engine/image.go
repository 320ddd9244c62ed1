package engine

import (
	"context"
	"fmt"
	"maps"
	"path"

	digest "github.com/opencontainers/go-digest"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/image"
)

// ImageSource is where Create finds RunConfig.Image.
type ImageSource struct {
	// Store is the image store.
	Store *image.Store
	// Pull says when to pull (--pull; empty: when missing).
	Pull image.PullPolicy
	// PullOptions are the pull's (progress, platform, registry options).
	PullOptions image.PullOptions
}

// resolvedImage is what Create keeps of the image it runs.
type resolvedImage struct {
	id digest.Digest
	// layers are the layer directories, top first; empty for an image
	// without layers.
	layers []string
}

// resolveImage finds (pulling as src.Pull says) and unpacks c.Image, and
// replaces c's values with the image config merged with them by docker's
// rules: entrypoint and command, environment, working directory, user,
// stop signal, labels (the run's win), exposed ports, and an anonymous
// volume for each image VOLUME no -v or --tmpfs already covers.
func resolveImage(ctx context.Context, c *RunConfig, src *ImageSource) (resolvedImage, error) {
	var res resolvedImage
	if src == nil || src.Store == nil {
		return res, errdefs.InvalidArgument("image %s: no image store to find it in", c.Image)
	}
	img, err := src.Store.Get(ctx, c.Image, src.Pull, src.PullOptions)
	if err != nil {
		return res, err
	}
	cfg, err := src.Store.Config(img)
	if err != nil {
		return res, fmt.Errorf("image %s: %w", c.Image, err)
	}
	if res.layers, err = src.Store.Unpack(ctx, img); err != nil {
		return res, fmt.Errorf("image %s: unpack: %w", c.Image, err)
	}
	res.id = img.ID
	rc, err := image.ResolveRunConfig(cfg.Config, image.RunOverrides{
		Entrypoint: c.Entrypoint, EntrypointSet: c.Entrypoint != nil, Cmd: c.Cmd, Env: c.Env,
		WorkingDir: c.WorkingDir, User: c.User, StopSignal: c.StopSignal,
	})
	if err != nil {
		return res, fmt.Errorf("image %s: %w", c.Image, err)
	}
	c.Entrypoint, c.Cmd, c.Env = rc.Entrypoint, rc.Cmd, rc.Env
	c.WorkingDir, c.User, c.StopSignal = rc.WorkingDir, rc.User, rc.StopSignal
	c.ExposedPorts = rc.ExposedPorts
	if len(rc.Labels) > 0 {
		labels := rc.Labels
		maps.Copy(labels, c.Labels)
		c.Labels = labels
	}
	for _, v := range rc.Volumes {
		if !path.IsAbs(v) {
			return res, errdefs.InvalidArgument("image %s: VOLUME %q is not an absolute path", c.Image, v)
		}
		dest := path.Clean(v)
		if mountsAt(c, dest) {
			continue
		}
		c.Mounts = append(c.Mounts, MountSpec{Source: AnonymousVolumeName(), Volume: true, Anonymous: true, Destination: dest})
	}
	return res, nil
}

// mountsAt reports whether a -v or --tmpfs of c mounts on dest.
func mountsAt(c *RunConfig, dest string) bool {
	for _, m := range c.Mounts {
		if path.Clean(m.Destination) == dest {
			return true
		}
	}
	for d := range c.Tmpfs {
		if path.Clean(d) == dest {
			return true
		}
	}
	return false
}

// UsesImage reports whether any container, running or not, was created
// from image id: what rmi and image prune ask (image.InUse). When the
// containers cannot be listed it answers yes, so nothing is removed on a
// guess.
func (s *Store) UsesImage(id digest.Digest) bool {
	all, err := s.List()
	if err != nil {
		return true
	}
	for _, r := range all {
		if r.ImageID == id.String() {
			return true
		}
	}
	return false
}
