package initproc

import (
	"fmt"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/mount"
)

// mountRootfsOverlay mounts the copy-on-write root filesystem the front
// end asked for on the rootfs directory, in the container's mount
// namespace only: it disappears with the namespace, so nothing is left on
// the host whatever happens to the runtime.
func (in *initState) mountRootfsOverlay() error {
	o := in.b.RootfsOverlay
	if o == nil {
		return nil
	}
	data := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s",
		strings.Join(escapeAll(o.Lower), ":"), escapeOverlay(o.Upper), escapeOverlay(o.Work))
	if in.newNamespace(specs.UserNamespace) {
		// Unprivileged overlay keeps its metadata in user.* xattrs.
		data += ",userxattr"
	}
	return mount.Mount("overlay", in.b.Rootfs, "overlay", 0, data)
}

// escapeOverlay escapes the characters overlayfs treats as separators in
// its options.
func escapeOverlay(p string) string {
	return strings.NewReplacer(`\`, `\\`, ",", `\,`, ":", `\:`).Replace(p)
}

func escapeAll(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = escapeOverlay(p)
	}
	return out
}
