package engine

// Rootless mode: tincan run by a user other than root, as podman does it.
//
//   - The container gets a user namespace in which the caller is root (its
//     uid and gid map to 0), plus the caller's subordinate ids from
//     /etc/subuid and /etc/subgid at 1 and up when it has ranges there and
//     newuidmap/newgidmap are installed (package linux/userns writes the
//     maps: directly for the single mapping, through the helpers else).
//   - The overlay is mounted by the init inside that user namespace (the
//     runtime adds userxattr), on directories the caller owns; the upper
//     directory gets what a rootfs of the host's root needs to be usable
//     (prepareRootlessUpper).
//   - No cgroup unless the caller was delegated one (the runtime falls back
//     with CreateOptions.Rootless).
//   - The network namespace is the container's own; pasta (network/pasta)
//     connects it and publishes ports: it joins the namespaces of the init
//     while the runtime creates it (runtime.CreateOptions.Namespaced: later
//     the init is not dumpable and its /proc/<pid>/ns files are out of the
//     caller's reach) and is stopped when the container exits. Its pid file
//     in the container's run directory lets rm sweep a pasta whose monitor
//     was killed.
//
// A rootless container runs from --rootfs: pulling and unpacking images
// needs root (layers give files their owners), and root's image store is
// not shared.

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/network/pasta"
	"github.com/tincan/tincan/network/portmap"
	"github.com/tincan/tincan/spec"
)

// rootlessCaller reports whether tincan runs as a user other than root.
func rootlessCaller() bool { return os.Geteuid() != 0 }

// rootlessImageUnsupported refuses a container from an image for a
// rootless caller: its image store would be its own, and unpacking layers
// needs to give files their owners (chown as root). Root's images are not
// shared with other users.
func rootlessImageUnsupported(c *RunConfig) error {
	if !rootlessCaller() || c.Image == "" {
		return nil
	}
	return errdefs.Unsupported("image %s: rootless tincan runs containers from --rootfs DIR only (pulling and unpacking images needs root)", c.Image)
}

// setRootless changes a container's spec for a rootless caller (nothing
// for root): a user namespace with the caller as root, and no mount
// option naming an id the namespace does not map.
func setRootless(s *specs.Spec) error {
	if !rootlessCaller() {
		return nil
	}
	uids, gids, err := rootlessIDMaps(os.Geteuid(), os.Getegid(), "/etc/subuid", "/etc/subgid")
	if err != nil {
		return err
	}
	hasUserns := false
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.UserNamespace {
			hasUserns = true
		}
	}
	if !hasUserns {
		s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace})
	}
	s.Linux.UIDMappings, s.Linux.GIDMappings = uids, gids
	for i := range s.Mounts {
		s.Mounts[i].Options = mappedIDOptions(s.Mounts[i].Options, uids, gids)
	}
	return nil
}

// rootlessIDMaps are the id maps of a rootless container: the caller's uid
// and gid as 0, then its subordinate ranges from 1 when it has one in each
// file and both setuid helpers are installed (without them only the
// caller's own ids can be mapped).
func rootlessIDMaps(uid, gid int, subuidFile, subgidFile string) (uids, gids []specs.LinuxIDMapping, err error) {
	uids = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(uid), Size: 1}}
	gids = []specs.LinuxIDMapping{{ContainerID: 0, HostID: uint32(gid), Size: 1}}
	for _, helper := range []string{"newuidmap", "newgidmap"} {
		if _, err := exec.LookPath(helper); err != nil {
			return uids, gids, nil
		}
	}
	names := []string{strconv.Itoa(uid)}
	if u, err := osuser.LookupId(strconv.Itoa(uid)); err == nil {
		names = append(names, u.Username)
	}
	subuid, err := subordinateRange(subuidFile, names)
	if err != nil {
		return nil, nil, err
	}
	subgid, err := subordinateRange(subgidFile, names)
	if err != nil {
		return nil, nil, err
	}
	if subuid == nil || subgid == nil {
		return uids, gids, nil
	}
	return append(uids, *subuid), append(gids, *subgid), nil
}

// subordinateRange is the first range of /etc/subuid (or subgid) for any
// of names (the user's name or uid), as a mapping from container id 1;
// nil when there is none.
func subordinateRange(path string, names []string) (*specs.LinuxIDMapping, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("read subordinate ids: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(strings.TrimSpace(sc.Text()), ":")
		if len(fields) != 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		match := false
		for _, n := range names {
			match = match || fields[0] == n
		}
		if !match {
			continue
		}
		start, err1 := strconv.ParseUint(fields[1], 10, 32)
		count, err2 := strconv.ParseUint(fields[2], 10, 32)
		if err1 != nil || err2 != nil || count == 0 {
			continue
		}
		return &specs.LinuxIDMapping{ContainerID: 1, HostID: uint32(start), Size: uint32(count)}, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read subordinate ids from %s: %w", path, err)
	}
	return nil, nil
}

// mappedIDOptions drops uid= and gid= mount options (devpts' gid=5) whose
// id the user namespace does not map: the kernel refuses them.
func mappedIDOptions(options []string, uids, gids []specs.LinuxIDMapping) []string {
	var kept []string
	for _, o := range options {
		key, val, _ := strings.Cut(o, "=")
		maps := map[string][]specs.LinuxIDMapping{"uid": uids, "gid": gids}[key]
		if maps != nil {
			id, err := strconv.ParseUint(val, 10, 32)
			if err != nil || !idMapped(maps, uint32(id)) {
				continue
			}
		}
		kept = append(kept, o)
	}
	return kept
}

func idMapped(maps []specs.LinuxIDMapping, id uint32) bool {
	for _, m := range maps {
		if id >= m.ContainerID && uint64(id) < uint64(m.ContainerID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

// prepareRootlessUpper readies the upper directory of a rootless
// container's overlay. A rootfs owned by the host's root is owned by no
// one in the container's user namespace: its root user may read it but
// not create a file in its /etc or /tmp, and overlayfs cannot copy such a
// directory up (EOVERFLOW: its owner has no id in the namespace).
// Directories made here, by the caller who owns the upper directory,
// belong to the container's root, as docker's init layer does:
//
//   - for --rootfs, every directory of the rootfs whose owner or group the
//     namespace does not map, with its mode (the overlay merges it with
//     the rootfs's): the container can create, rename and remove files
//     anywhere. Files of the host's root stay read-only to it (they cannot
//     be copied up either), but can be replaced (rename over, sed -i).
//     Not for images: the directories of lower layers could resurrect
//     what a higher layer deleted;
//   - the mount points the runtime would otherwise create in the
//     container (/etc/hosts, /etc/resolv.conf, /etc/hostname, volume and
//     tmpfs destinations, /sbin/tincan-init) and the directories above
//     them. A path that a layer already has is left alone (a mount on it
//     needs no write access), and nothing is made under a symlink or a
//     non-directory of the layers, which a directory in the upper layer
//     would hide.
func (s *Store) prepareRootlessUpper(rec *Record) error {
	if !rootlessCaller() || rec.Config.RootfsRW {
		return nil
	}
	sp, err := spec.Load(filepath.Join(s.ContainerDir(rec.ID), "bundle"))
	if err != nil {
		return err
	}
	upper := filepath.Join(s.ContainerDir(rec.ID), "rootfs/upper")
	lower := rec.LowerDirs()
	if rec.Config.Image == "" && sp.Linux != nil {
		if err := mirrorUnmappedDirs(lower[0], upper, sp.Linux.UIDMappings, sp.Linux.GIDMappings); err != nil {
			return fmt.Errorf("rootless: prepare the overlay of %s: %w", lower[0], err)
		}
	}
	// Mount points under a filesystem the container mounts (/proc, the
	// /dev tmpfs, /sys) are that filesystem's business.
	var fresh []string
	for _, m := range sp.Mounts {
		dest := filepath.Clean("/" + m.Destination)
		under := false
		for _, f := range fresh {
			under = under || dest == f || strings.HasPrefix(dest, f+"/")
		}
		if !isBindMount(m) {
			fresh = append(fresh, dest)
		}
		if under || dest == "/" {
			continue
		}
		file := false
		if isBindMount(m) {
			if fi, err := os.Stat(m.Source); err == nil && !fi.IsDir() {
				file = true
			}
		}
		if err := makeUpperMountPoint(upper, lower, dest, file); err != nil {
			return fmt.Errorf("rootless: prepare mount point %s: %w", dest, err)
		}
	}
	return nil
}

// mirrorUnmappedDirs makes in upper each directory of lower (not the root:
// the upper directory is that) whose owner or group has no id in the
// container's user namespace, with the directories above it, each with
// the mode of lower's.
func mirrorUnmappedDirs(lower, upper string, uids, gids []specs.LinuxIDMapping) error {
	var dirs []string
	err := filepath.WalkDir(lower, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == lower {
				return err
			}
			// An unreadable corner of the rootfs: the container cannot
			// read it either.
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() || path == lower {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok || (hostIDMapped(uids, st.Uid) && hostIDMapped(gids, st.Gid)) {
			return nil
		}
		rel, err := filepath.Rel(lower, path)
		if err != nil {
			return err
		}
		dirs = append(dirs, rel)
		return nil
	})
	if err != nil {
		return err
	}
	return makeUpperDirs(upper, []string{lower}, dirs)
}

// makeUpperDirs makes the directories rels (relative paths, parents
// before children) and those above them in upper, each with the mode of
// the topmost layer's (0755 where no layer has it). Modes are set last:
// a directory without write permission is still filled.
func makeUpperDirs(upper string, lower []string, rels []string) error {
	type made struct {
		path string
		mode os.FileMode
	}
	var todo []made
	seen := map[string]bool{}
	for _, rel := range rels {
		parts := strings.Split(rel, string(filepath.Separator))
		for i := range parts {
			r := filepath.Join(parts[:i+1]...)
			if seen[r] {
				continue
			}
			seen[r] = true
			target := filepath.Join(upper, r)
			if _, err := os.Lstat(target); err == nil {
				continue
			}
			if err := os.Mkdir(target, 0o700); err != nil {
				return err
			}
			mode := os.FileMode(0o755)
			if fi, ok := lowerLstat(lower, r); ok {
				mode = fi.Mode().Perm() | fi.Mode()&(os.ModeSticky|os.ModeSetgid)
			}
			todo = append(todo, made{target, mode})
		}
	}
	for i := len(todo) - 1; i >= 0; i-- {
		if err := os.Chmod(todo[i].path, todo[i].mode); err != nil {
			return err
		}
	}
	return nil
}

// hostIDMapped reports whether the host id has an id in the namespace.
func hostIDMapped(maps []specs.LinuxIDMapping, id uint32) bool {
	for _, m := range maps {
		if id >= m.HostID && uint64(id) < uint64(m.HostID)+uint64(m.Size) {
			return true
		}
	}
	return false
}

func isBindMount(m specs.Mount) bool {
	if m.Type == "bind" {
		return true
	}
	for _, o := range m.Options {
		if o == "bind" || o == "rbind" {
			return true
		}
	}
	return false
}

// makeUpperMountPoint makes dest (a file when file is set) and the
// directories above it in upper, unless a layer has dest; each directory
// a layer has takes its mode.
func makeUpperMountPoint(upper string, lower []string, dest string, file bool) error {
	rel := strings.TrimPrefix(dest, "/")
	parts := strings.Split(rel, "/")
	for i := range parts {
		fi, inLower := lowerLstat(lower, filepath.Join(parts[:i+1]...))
		switch {
		case inLower && i == len(parts)-1:
			return nil
		case inLower && !fi.IsDir():
			// A symlink or a file: the runtime resolves it; a directory
			// here would hide it.
			return nil
		}
	}
	if _, err := os.Lstat(filepath.Join(upper, rel)); err == nil {
		return nil
	}
	if !file {
		return makeUpperDirs(upper, lower, []string{rel})
	}
	if dir := filepath.Dir(rel); dir != "." {
		if err := makeUpperDirs(upper, lower, []string{dir}); err != nil {
			return err
		}
	}
	f, err := os.OpenFile(filepath.Join(upper, rel), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	return f.Close()
}

// lowerLstat is the entry rel of the topmost layer that has it.
func lowerLstat(lower []string, rel string) (os.FileInfo, bool) {
	for _, l := range lower {
		if fi, err := os.Lstat(filepath.Join(l, rel)); err == nil {
			return fi, true
		}
	}
	return nil, false
}

// pastaPidFile is where the pasta of a rootless container writes its pid.
func (s *Store) pastaPidFile(id string) string {
	return filepath.Join(s.engineRunDir(id), "pasta.pid")
}

// startRootlessNetwork starts pasta for the network namespace of a
// rootless container's created init pid, publishing its ports, and
// returns what stops it. For root, or a container whose network is not
// pasta's, it does nothing.
func (s *Store) startRootlessNetwork(rec *Record, pid int) (stop func(), err error) {
	noop := func() {}
	if !rootlessCaller() || rec.Config.Network != NetworkPasta {
		return noop, nil
	}
	pidFile := s.pastaPidFile(rec.ID)
	// A pasta of an earlier run whose monitor was killed.
	pasta.StopPidFile(pidFile)
	if err := pasta.Available(); err != nil {
		return nil, err
	}
	ports, fwd, err := pastaForwards(&rec.Config)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(pidFile), 0o700); err != nil {
		return nil, fmt.Errorf("rootless network: %w", err)
	}
	p, err := pasta.Start(pid, fwd, pidFile)
	if err != nil {
		return nil, fmt.Errorf("rootless network of container %s: %w", rec.ShortID(), err)
	}
	// inspect and `tincan port` show them (saved when the container starts).
	rec.Network = &NetworkSettings{Ports: ports}
	return func() {
		p.Stop()
		os.Remove(pidFile)
	}, nil
}

// pastaForwards are the container's published ports (-p, -P) with their
// host ports chosen, and the same as pasta takes them. A random host port
// or a range is chosen by reserving it and letting it go at once: pasta
// binds it itself right after (another program could take it in between;
// pasta then fails to start with "address in use"). A fixed port is left
// to pasta, which binds it with SO_REUSEADDR: a reservation would refuse
// a port that still has connections in TIME_WAIT.
func pastaForwards(c *RunConfig) ([]portmap.Mapping, []pasta.Forward, error) {
	ms, err := portsToPublish(c)
	if err != nil || len(ms) == 0 {
		return nil, nil, err
	}
	var choose []portmap.Mapping
	var at []int
	for i, m := range ms {
		if m.HostPort == 0 || m.IsRange() {
			choose, at = append(choose, m), append(at, i)
		} else if m.Protocol == "" {
			ms[i].Protocol = portmap.TCP
		}
	}
	if len(choose) > 0 {
		chosen, res, err := portmap.Reserve(choose)
		if err != nil {
			return nil, nil, err
		}
		res.Close()
		for j, i := range at {
			ms[i] = chosen[j]
		}
	}
	fwd := make([]pasta.Forward, len(ms))
	for i, m := range ms {
		fwd[i] = pasta.Forward{Protocol: m.Protocol, HostIP: m.HostIP, HostPort: m.HostPort, ContainerPort: m.ContainerPort}
	}
	return ms, fwd, nil
}

// sweepRootlessNetwork stops the pasta a killed monitor left running for
// container id, if any.
func (s *Store) sweepRootlessNetwork(id string) {
	pasta.StopPidFile(s.pastaPidFile(id))
}

// startNetwork starts the rootless network of the container the monitor
// creates, for its init pid (runtime.CreateOptions.Namespaced: the init's
// namespaces exist and it has not started setting up the container).
func (m *monitor) startNetwork(pid int) error {
	stop, err := m.s.startRootlessNetwork(m.rec, pid)
	if err != nil {
		return err
	}
	m.stopNet = stop
	return nil
}

// stopNetwork stops what startNetwork started.
func (m *monitor) stopNetwork() {
	if m.stopNet != nil {
		m.stopNet()
		m.stopNet = nil
	}
}
