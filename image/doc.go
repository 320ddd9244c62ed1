// Package image is tincan's image store: references, registries, pulling
// and pushing, the content store, image records and names, save/load
// archives, and garbage collection. Layers are unpacked into snapshots of
// package storage.
//
// Registry protocol, authentication and manifest types come from
// github.com/google/go-containerregistry (remote, transport, authn) and
// github.com/opencontainers/image-spec; blob downloads are this package's
// own, so that they resume with HTTP range requests, verify as they
// stream, and feed the layer applier while they download.
//
// Layout under the data root (/var/lib/tincan):
//
//	images/blobs/sha256/<hex>     content store: manifests, indexes, configs, layers
//	images/ingest/sha256-<hex>    partial downloads, resumed by the next pull
//	images/tmp/                   files being written before their rename
//	images/meta/<id hex>.json     one record per image (Image), id = config digest
//	images/repositories.json      names ("docker.io/library/alpine:latest") -> image id
//	images/lock, images/gc.lock   flock(2): metadata changes; content vs collector
//	storage/overlay/<chain id>/   one directory per layer (or storage/native/...)
//	registries.json               registries configuration (else /etc/tincan/registries.json)
//
// Blobs and snapshots appear only by rename once verified, so nothing a
// killed pull leaves behind is ever used; GC removes what no image
// references. Which images containers use is the engine's knowledge: it
// passes an InUse function to Remove and Prune.
//
// It does not run containers: the engine asks Get for an image, Unpack
// for its layer directories and ResolveRunConfig for what to run, and
// records the container under Use, so that Remove never misses it.
package image
