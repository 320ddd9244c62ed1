package storage

import (
	"encoding/binary"
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// WhiteoutMode says what a layer's whiteout entries (".wh.NAME" and the
// opaque marker ".wh..wh..opq") become.
type WhiteoutMode int

const (
	// WhiteoutOverlay keeps them as overlayfs expects in a layer
	// directory: a 0:0 character device for a removed path, the
	// overlay.opaque="y" xattr on an opaque directory.
	WhiteoutOverlay WhiteoutMode = iota
	// WhiteoutDelete removes what they name (applying onto a full copy of
	// the parent).
	WhiteoutDelete
)

// ApplyOptions are the caller's choices for Apply; snapshotters fill in the
// fields marked as theirs.
type ApplyOptions struct {
	// UIDMap and GIDMap map the layer's ids (container ids) to the ids
	// written on disk (host ids), for containers in a user namespace.
	// Empty: ids are written as they are. An id outside the map is an
	// error.
	UIDMap, GIDMap []specs.LinuxIDMapping
	// UserXattr writes the opaque marker as user.overlay.opaque instead
	// of trusted.overlay.opaque: the form overlay mounts with the
	// userxattr option (in a user namespace, rootless) read.
	UserXattr bool
	// Warn receives what is skipped rather than failed: device nodes that
	// cannot be created in a user namespace, refused xattrs. Nil: dropped.
	Warn func(msg string)

	// Whiteouts is set by the snapshotter.
	Whiteouts WhiteoutMode
	// Lowers (set by the overlay snapshotter) are the parent's layer
	// directories, top first: a directory the layer creates implicitly
	// (an entry whose parent the tar does not list) takes its owner and
	// mode from the first lower that has it, so the merged view keeps
	// them.
	Lowers []string
	// ImplicitDir (set by the overlay snapshotter) is told, at the end of
	// a successful Apply, each directory the layer created implicitly and
	// never listed, when it had Lowers. A lower may still
	// be unpacking (layers unpack in parallel while they download), so the
	// attributes taken from them are settled again once every lower is
	// complete (see SettleImplicit).
	ImplicitDir func(rel string)
}

func (o *ApplyOptions) warn(format string, args ...any) {
	if o.Warn != nil {
		o.Warn(fmt.Sprintf(format, args...))
	}
}

// mapID maps a container id to a host id through maps; no maps: as is.
func mapID(id int, maps []specs.LinuxIDMapping) (int, error) {
	if len(maps) == 0 {
		return id, nil
	}
	for _, m := range maps {
		if id >= int(m.ContainerID) && id-int(m.ContainerID) < int(m.Size) {
			return int(m.HostID) + id - int(m.ContainerID), nil
		}
	}
	return 0, fmt.Errorf("id %d is not mapped in the user namespace", id)
}

// vfsCapRevision3 is the magic_etc of a security.capability value that
// carries the root uid it applies to (a namespaced file capability).
const vfsCapRevision3 = 0x03000000

// mapCapability rewrites the root id of a revision 3 security.capability
// value to the host id the id map gives it; other values pass unchanged.
func mapCapability(value []byte, uids []specs.LinuxIDMapping) ([]byte, error) {
	if len(uids) == 0 || len(value) != 24 || binary.LittleEndian.Uint32(value)&0xff000000 != vfsCapRevision3 {
		return value, nil
	}
	root, err := mapID(int(binary.LittleEndian.Uint32(value[20:])), uids)
	if err != nil {
		return nil, fmt.Errorf("security.capability root id: %w", err)
	}
	out := append([]byte(nil), value...)
	binary.LittleEndian.PutUint32(out[20:], uint32(root))
	return out, nil
}
