package image

import (
	"encoding/json"
	"fmt"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
)

// Docker's media types (the Docker Image Manifest V2, Schema 2 spec).
const (
	DockerManifest      = "application/vnd.docker.distribution.manifest.v2+json"
	DockerManifestList  = "application/vnd.docker.distribution.manifest.list.v2+json"
	DockerConfig        = "application/vnd.docker.container.image.v1+json"
	DockerLayerGzip     = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	DockerForeignLayer  = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	dockerSchema1       = "application/vnd.docker.distribution.manifest.v1+json"
	dockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"
	// ociNonDistributable is deprecated by the OCI spec, but still found
	// in images (Windows bases): such layers are fetched like any other.
	ociNonDistributable = "application/vnd.oci.image.layer.nondistributable.v1.tar"
)

func isIndex(mt string) bool { return mt == ocispec.MediaTypeImageIndex || mt == DockerManifestList }

func isManifest(mt string) bool { return mt == ocispec.MediaTypeImageManifest || mt == DockerManifest }

func isConfig(mt string) bool { return mt == ocispec.MediaTypeImageConfig || mt == DockerConfig }

// isLayer accepts the layer media types of both specs (compression is
// detected from the data itself).
func isLayer(mt string) bool {
	switch mt {
	case ocispec.MediaTypeImageLayer, ocispec.MediaTypeImageLayerGzip, ocispec.MediaTypeImageLayerZstd,
		ociNonDistributable, ociNonDistributable + "+gzip", ociNonDistributable + "+zstd",
		DockerLayerGzip, DockerForeignLayer, "application/vnd.docker.image.rootfs.diff.tar":
		return true
	}
	return false
}

// parseManifest decodes and checks an image manifest: a known media type,
// a container config, layers of known types, valid digests.
func parseManifest(data []byte, mediaType string) (ocispec.Manifest, error) {
	var m ocispec.Manifest
	if mediaType == dockerSchema1 || mediaType == dockerSchema1Signed {
		return m, errdefs.Unsupported("docker schema 1 manifests are not supported (the image is too old; push it again with a recent tool)")
	}
	if !isManifest(mediaType) {
		return m, errdefs.Unsupported("manifest media type %q is not supported", mediaType)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decode manifest: %w", err)
	}
	if m.MediaType != "" && m.MediaType != mediaType {
		return m, errdefs.InvalidArgument("manifest says media type %q, was served as %q", m.MediaType, mediaType)
	}
	if !isConfig(m.Config.MediaType) {
		return m, errdefs.Unsupported("not a container image: config media type %q", m.Config.MediaType)
	}
	if err := checkDescriptor(m.Config); err != nil {
		return m, err
	}
	for _, l := range m.Layers {
		if !isLayer(l.MediaType) {
			return m, errdefs.Unsupported("layer media type %q is not supported", l.MediaType)
		}
		if err := checkDescriptor(l); err != nil {
			return m, err
		}
	}
	return m, nil
}

func checkDescriptor(d ocispec.Descriptor) error {
	if err := checkDigest(d.Digest); err != nil {
		return err
	}
	if d.Size < 0 {
		return errdefs.InvalidArgument("descriptor %s: negative size", d.Digest)
	}
	return nil
}

// parseIndex decodes an index (manifest list).
func parseIndex(data []byte) (ocispec.Index, error) {
	var idx ocispec.Index
	if err := json.Unmarshal(data, &idx); err != nil {
		return idx, fmt.Errorf("decode index: %w", err)
	}
	for _, m := range idx.Manifests {
		if err := checkDescriptor(m); err != nil {
			return idx, err
		}
	}
	return idx, nil
}

// parseConfig decodes an image config and checks it against the manifest:
// one diff ID per layer.
func parseConfig(data []byte, layers int) (ocispec.Image, error) {
	var c ocispec.Image
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("decode image config: %w", err)
	}
	if len(c.RootFS.DiffIDs) != layers {
		return c, errdefs.InvalidArgument("image config lists %d layers, the manifest %d", len(c.RootFS.DiffIDs), layers)
	}
	for _, d := range c.RootFS.DiffIDs {
		if err := checkDigest(d); err != nil {
			return c, err
		}
	}
	return c, nil
}
