package engine

import (
	"bufio"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/pathrs"
	"github.com/tincan/tincan/storage"
)

// user is a resolved -u value.
type user struct {
	uid, gid uint32
	groups   []uint32
	home     string
}

// resolveUser turns "name", "uid", "name:group" or "uid:gid" into ids,
// looking names up in the container's /etc/passwd and /etc/group (read
// inside the rootfs, never through a symlink out of it), as docker does:
// a numeric uid without an entry gets gid 0; the user's supplementary
// groups come from /etc/group.
func resolveUser(rootfs, spec string) (user, error) {
	root, err := pathrs.OpenRoot(rootfs)
	if err != nil {
		return user{home: "/"}, err
	}
	defer root.Close()
	return lookupUser(func(name string) (*os.File, error) { return root.Open(name, unix.O_RDONLY) }, spec)
}

// resolveUserInLayers is resolveUser for a container from an image: the
// files are read from the merged view of its layers, top first.
func resolveUserInLayers(layers []string, spec string) (user, error) {
	return lookupUser(storage.Layered{Layers: layers}.Open, spec)
}

// lookupUser resolves spec with the /etc/passwd and /etc/group that open
// opens.
func lookupUser(open func(name string) (*os.File, error), spec string) (user, error) {
	u := user{home: "/"}
	if spec == "" {
		spec = "0"
	}
	name, group, hasGroup := strings.Cut(spec, ":")
	passwd := readEntries(open, "/etc/passwd")
	groups := readEntries(open, "/etc/group")

	userName := ""
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		u.uid = uint32(n)
		for _, e := range passwd {
			if len(e) >= 7 && e[2] == name {
				userName = e[0]
				u.gid = parseID(e[3])
				u.home = e[5]
				break
			}
		}
	} else {
		found := false
		for _, e := range passwd {
			if len(e) >= 7 && e[0] == name {
				userName, found = name, true
				u.uid, u.gid, u.home = parseID(e[2]), parseID(e[3]), e[5]
				break
			}
		}
		if !found {
			return u, errdefs.InvalidArgument("unable to find user %s: no matching entries in passwd file", name)
		}
	}
	if hasGroup {
		if n, err := strconv.ParseUint(group, 10, 32); err == nil {
			u.gid = uint32(n)
		} else {
			found := false
			for _, e := range groups {
				if len(e) >= 3 && e[0] == group {
					u.gid, found = parseID(e[2]), true
					break
				}
			}
			if !found {
				return u, errdefs.InvalidArgument("unable to find group %s: no matching entries in group file", group)
			}
		}
	}
	if userName != "" {
		for _, e := range groups {
			if len(e) < 4 {
				continue
			}
			for _, member := range strings.Split(e[3], ",") {
				if member == userName {
					if gid := parseID(e[2]); gid != u.gid {
						u.groups = append(u.groups, gid)
					}
				}
			}
		}
	}
	return u, nil
}

func parseID(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// readEntries reads a colon-separated database file from the rootfs; a
// missing file is empty.
func readEntries(open func(name string) (*os.File, error), path string) [][]string {
	f, err := open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(io.LimitReader(f, 16<<20))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, strings.Split(line, ":"))
	}
	return out
}
