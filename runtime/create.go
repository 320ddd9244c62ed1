package runtime

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/lazyjson"
	"github.com/tincan/tincan/linux/apparmor"
	"github.com/tincan/tincan/linux/caps"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/linux/landlock"
	"github.com/tincan/tincan/linux/mount"
	"github.com/tincan/tincan/linux/rlimit"
	"github.com/tincan/tincan/linux/seccomp"
	"github.com/tincan/tincan/linux/selinux"
	"github.com/tincan/tincan/runtime/initproc"
	"github.com/tincan/tincan/spec"
)

// CreateOptions are the inputs of Create.
type CreateOptions struct {
	// Root is the runtime state root (--root).
	Root string
	// ID is the new container's id.
	ID string
	// Bundle is the bundle directory holding config.json.
	Bundle string
	// ConsoleSocket is the unix socket that receives the pty master when
	// process.terminal is set.
	ConsoleSocket string
	// PidFile, when set, receives the init's pid once created.
	PidFile string
	// NoPivot uses MS_MOVE+chroot instead of pivot_root.
	NoPivot bool
	// NoNewKeyring keeps the caller's session keyring.
	NoNewKeyring bool
	// PreserveFDs passes fds 3..3+N-1 of the caller to the process.
	PreserveFDs int
	// ListenFDs is $LISTEN_FDS of the caller (socket activation): those
	// fds are passed too, before the preserved ones.
	ListenFDs int
	// RootfsOverlay, when set, makes the root filesystem an overlay of
	// these directories, mounted on the config's root.path inside the
	// container's mount namespace (root.path must be an empty directory).
	RootfsOverlay *initproc.Overlay
	// Stdin, Stdout and Stderr become the process's stdio (nil: /dev/null).
	Stdin, Stdout, Stderr *os.File
	// Foreground means the caller stays attached (run without --detach):
	// a terminal without a console socket is then relayed by the caller.
	Foreground bool
	// Rootless runs the container without a cgroup when the cgroup tree
	// is not writable (--rootless, on by default for non-root callers).
	Rootless bool
	// Debug makes the init report each step through Log.Debugf.
	Debug bool
	// Log receives warnings and debug lines.
	Log Logger
	// Namespaced, when set, is called with the init's host pid once its
	// namespaces exist (the ids of a new user namespace mapped), before
	// the init gets its bootstrap: it has done nothing of the container's
	// setup and is still dumpable, so a helper the caller runs can open
	// its /proc/<pid>/ns files (a rootless engine's pasta joins its user
	// and network namespaces; later the init is not dumpable, and its
	// /proc files are the host root's). An error fails the create.
	Namespaced func(pid int) error
}

// Logger receives what the runtime reports besides errors.
type Logger interface {
	Warnf(format string, args ...any)
	Debugf(format string, args ...any)
}

// prepared is a config checked completely before anything is created.
type prepared struct {
	spec       *specs.Spec
	bundle     string
	rootfs     string
	cgroupPath string
	plan       nsPlan
	// seccomp is the compiled filter, encoded for the init (nil: none).
	seccomp []byte
}

// prepare loads and checks everything create needs, so that invalid input
// fails before a state directory, cgroup or process exists.
func prepare(opts *CreateOptions) (*prepared, error) {
	if err := ValidateID(opts.ID); err != nil {
		return nil, err
	}
	bundle, err := filepath.Abs(opts.Bundle)
	if err != nil {
		return nil, errdefs.InvalidArgument("bundle %q: %w", opts.Bundle, err)
	}
	s, err := spec.Load(bundle)
	if err != nil {
		return nil, err
	}
	warnings, err := spec.Validate(s, bundle)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		opts.Log.Warnf("%s", w)
	}
	p := &prepared{spec: s, bundle: bundle}
	if p.rootfs, err = spec.RootfsPath(s, bundle); err != nil {
		return nil, err
	}
	if s.Linux == nil {
		return nil, errdefs.InvalidArgument("config.json: linux: section required on Linux")
	}
	if err := checkOverlay(opts.RootfsOverlay, s); err != nil {
		return nil, err
	}
	if p.plan, err = buildNSPlan(s); err != nil {
		return nil, err
	}
	if err := checkUnsupported(s); err != nil {
		return nil, err
	}
	if err := checkLandlock(s, opts.Log); err != nil {
		return nil, err
	}
	if s.Linux.Seccomp != nil {
		if p.seccomp, err = compileSeccomp(s.Linux.Seccomp, opts.Log); err != nil {
			return nil, err
		}
	}
	if s.Process != nil {
		if s.Process.Capabilities != nil {
			_, capWarnings, err := caps.FromSpec(s.Process.Capabilities)
			if err != nil {
				return nil, err
			}
			for _, w := range capWarnings {
				opts.Log.Warnf("%s", w)
			}
		}
		for i, r := range s.Process.Rlimits {
			if _, err := rlimit.Parse(r.Type); err != nil {
				return nil, errdefs.InvalidArgument("process.rlimits[%d].type: %w", i, err)
			}
		}
		if s.Process.Terminal && opts.ConsoleSocket == "" && !opts.Foreground {
			return nil, errdefs.InvalidArgument("cannot allocate tty if tincan-oci will detach without setting console socket")
		}
	}
	if opts.ConsoleSocket != "" && (s.Process == nil || !s.Process.Terminal) {
		return nil, errdefs.InvalidArgument("cannot use console socket if tincan-oci will not detach or allocate tty")
	}
	for i, m := range s.Mounts {
		o, err := mount.ParseOptions(m.Options)
		if err != nil {
			return nil, errdefs.InvalidArgument("mounts[%d].options: %w", i, err)
		}
		if o.IDMap != nil {
			// They must be made by a process privileged over the
			// filesystem (the parent), not by the init in its user
			// namespace; not wired up yet.
			return nil, errdefs.Unsupported("mounts[%d].options: idmapped mounts are not supported by this tincan-oci yet", i)
		}
	}
	cgPath := ""
	if s.Linux != nil {
		cgPath = s.Linux.CgroupsPath
	}
	if p.cgroupPath, err = cgroups.ResolvePath(cgPath, opts.ID); err != nil {
		return nil, err
	}
	resourceWarnings, err := cgroups.Validate(s.Linux.Resources)
	if err != nil {
		return nil, err
	}
	for _, w := range resourceWarnings {
		opts.Log.Warnf("%s", w)
	}
	return p, nil
}

// Create makes the container described by the bundle and leaves its init
// process waiting for Start. On success the returned container holds its
// lock; call Unlock (or Start) when done.
func Create(opts CreateOptions) (*Container, error) {
	p, err := prepare(&opts)
	if err != nil {
		return nil, err
	}
	var undo cleanups
	c, err := create(&opts, p, &undo)
	if err != nil {
		if cerr := undo.run(); cerr != nil {
			opts.Log.Warnf("cleaning up after failed create of %s: %v", opts.ID, cerr)
		}
		return nil, err
	}
	undo.release()
	return c, nil
}

// create does the work of Create, registering in undo how to take back
// each thing it made.
func create(opts *CreateOptions, p *prepared, undo *cleanups) (*Container, error) {
	cg, err := cgroups.New(p.cgroupPath)
	if err != nil {
		return nil, err
	}
	// The cgroup record says the cgroup is ours to empty and remove, and
	// where it is even if state.json is damaged, with the highest of the
	// parents create will make, removed again (when empty) at delete. It
	// is written with the state directory, before the cgroup exists, so
	// no interruption leaves an unrecorded cgroup.
	owned := cgroupIsFree(cg)
	var record []byte
	if owned {
		record = []byte(p.cgroupPath + "\n" + firstMissingParent(p.cgroupPath) + "\n")
	}
	c, err := makeStateDir(opts, p, record)
	if err != nil {
		return nil, err
	}
	undo.add(func() error {
		c.Unlock()
		return os.RemoveAll(c.dir)
	})
	// A container that failed to be created is deleted, and deleting runs
	// the poststop hooks (runtime-spec lifecycle, steps 11-12).
	undo.add(func() error {
		c.runPoststopHooks(opts.Log)
		return nil
	})

	if err := setupCgroup(opts, p, c, undo, cg, owned); err != nil {
		return nil, err
	}
	if c.state.CgroupPath == "" {
		cg = nil // rootless without a cgroup
	}
	if cg != nil {
		opts.Log.Debugf("cgroup %s (%s)", p.cgroupPath, cgroups.DetectMode())
	}
	opts.Log.Debugf("namespaces: new %v; joined: %s", p.plan.newNS, p.plan.joinedSummary())

	// The limits are applied while the init starts up: it is in the
	// cgroup from its start, and runs nothing of the container's setup
	// before the bootstrap, which follows them (see spawn).
	var limits func() error
	if cg != nil {
		limits = func() error { return applyResources(opts, p.spec, cg, owned) }
	}
	init, err := spawnInit(opts, p, c, cg, limits)
	if err != nil {
		return nil, err
	}
	undo.add(init.kill)
	if err := applyPidsLimit(opts, p.spec, cg); err != nil {
		return nil, err
	}

	c.state.Status = Created
	c.state.Pid = init.pid
	c.state.PidStartTime = init.startTime
	if err := c.saveState(); err != nil {
		return nil, err
	}
	if opts.PidFile != "" {
		if err := writePidFile(opts.PidFile, init.pid); err != nil {
			return nil, err
		}
	}
	c.initProc = init
	return c, nil
}

// makeStateDir creates <root>/<id> atomically with its first state.json,
// the cgroup record (when not nil) and the lock already held: the
// directory is built under a temporary name and renamed into place
// without replacing anything, so of two concurrent creates of one id
// exactly one wins and the other touches nothing. Nobody reads the
// temporary directory (but a delete of the id that finds its lock free),
// so its files are written in place rather than renamed into it.
func makeStateDir(opts *CreateOptions, p *prepared, cgroupRecord []byte) (*Container, error) {
	if err := os.MkdirAll(opts.Root, 0o711); err != nil {
		return nil, fmt.Errorf("create runtime root %s: %w", opts.Root, err)
	}
	tmp, err := os.MkdirTemp(opts.Root, newDirPrefix(opts.ID))
	if err != nil {
		return nil, fmt.Errorf("create state directory in %s: %w", opts.Root, err)
	}
	c := &Container{id: opts.ID, dir: tmp}
	fail := func(err error) (*Container, error) {
		c.Unlock()
		os.RemoveAll(tmp)
		return nil, err
	}
	if err := c.Lock(); err != nil {
		return fail(err)
	}
	c.state, c.stateErr = &State{
		OCIVersion:  p.spec.Version,
		ID:          opts.ID,
		Status:      Creating,
		Bundle:      p.bundle,
		Rootfs:      p.rootfs,
		Created:     time.Now().UTC(),
		Annotations: p.spec.Annotations,
		CgroupPath:  p.cgroupPath,
		Config:      p.spec,
	}, nil
	data, err := lazyjson.Marshal(c.state)
	if err != nil {
		return fail(fmt.Errorf("encode state of %s: %w", c.id, err))
	}
	if err := writeNewFile(tmp, stateFile, data); err != nil {
		return fail(err)
	}
	if cgroupRecord != nil {
		if err := writeNewFile(tmp, cgroupFile, cgroupRecord); err != nil {
			return fail(err)
		}
	}
	if err := makeExecFifo(tmp, p.spec); err != nil {
		return fail(err)
	}
	final := filepath.Join(opts.Root, opts.ID)
	if err := unix.Renameat2(unix.AT_FDCWD, tmp, unix.AT_FDCWD, final, unix.RENAME_NOREPLACE); err != nil {
		if errors.Is(err, unix.EEXIST) || errors.Is(err, unix.ENOTEMPTY) {
			return fail(errdefs.AlreadyExists("container with id %q already exists", opts.ID))
		}
		return fail(fmt.Errorf("create state directory %s: %w", final, err))
	}
	c.dir = final
	return c, nil
}

// checkOverlay checks a rootfs overlay: its directories exist, and the
// container has a mount namespace to mount it in.
func checkOverlay(o *initproc.Overlay, s *specs.Spec) error {
	if o == nil {
		return nil
	}
	hasMountNS := false
	for _, n := range s.Linux.Namespaces {
		hasMountNS = hasMountNS || n.Type == specs.MountNamespace
	}
	if !hasMountNS {
		return errdefs.InvalidArgument("rootfs overlay: the container needs a mount namespace")
	}
	if len(o.Lower) == 0 {
		return errdefs.InvalidArgument("rootfs overlay: no lower directory")
	}
	for _, d := range append(append([]string{}, o.Lower...), o.Upper, o.Work) {
		fi, err := os.Stat(d)
		if err != nil {
			return errdefs.InvalidArgument("rootfs overlay: %v", err)
		}
		if !fi.IsDir() {
			return errdefs.InvalidArgument("rootfs overlay: %s is not a directory", d)
		}
	}
	return nil
}

// compileSeccomp compiles the filter in the parent, so a bad profile fails
// create before anything exists, and the init only loads it.
func compileSeccomp(c *specs.LinuxSeccomp, log Logger) ([]byte, error) {
	prog, warnings, err := seccomp.Compile(c)
	if err != nil {
		return nil, err
	}
	for _, w := range warnings {
		// Profiles name syscalls newer than some kernels or arches; runc
		// skips those silently, and engines show warnings to people, so
		// they are debug lines.
		if strings.Contains(w, "unknown syscall") {
			log.Debugf("%s", w)
			continue
		}
		log.Warnf("%s", w)
	}
	dropped, err := seccomp.DroppedFlags(prog)
	if err != nil {
		return nil, err
	}
	for _, f := range dropped {
		log.Warnf("linux.seccomp.flags: %s is not supported by this kernel and is ignored", f)
	}
	return prog.MarshalBinary()
}

// makeExecFifo makes the fifo the init blocks on until start. The init
// opens it after switching to the container's user, possibly in a user
// namespace where host root is nobody: so it is writable by all (0622,
// set after mkfifo, which the umask would trim) and owned by the host ids
// of the container's root, as runc does.
func makeExecFifo(dir string, s *specs.Spec) error {
	fifo := filepath.Join(dir, fifoFile)
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return fmt.Errorf("create exec fifo %s: %w", fifo, err)
	}
	if err := os.Chmod(fifo, 0o622); err != nil {
		return fmt.Errorf("chmod exec fifo %s: %w", fifo, err)
	}
	uid, gid := hostID(s.Linux.UIDMappings, 0), hostID(s.Linux.GIDMappings, 0)
	if err := os.Chown(fifo, uid, gid); err != nil {
		return fmt.Errorf("chown exec fifo %s: %w", fifo, err)
	}
	return nil
}

// hostID maps a container id to the host through mappings (identity when
// there are none, or when id is not mapped).
func hostID(mappings []specs.LinuxIDMapping, id uint32) int {
	for _, m := range mappings {
		if id >= m.ContainerID && id-m.ContainerID < m.Size {
			return int(m.HostID + id - m.ContainerID)
		}
	}
	return int(id)
}

// setupCgroup makes the container's cgroup cg (owned: it is ours to
// remove, see create); its limits come later, in parallel with the init's
// start. A rootless runtime that may not write the cgroup tree runs the
// container without one, with a warning, as runc does; the state then
// records no cgroup path.
func setupCgroup(opts *CreateOptions, p *prepared, c *Container, undo *cleanups, cg cgroups.Manager, owned bool) error {
	if owned {
		// Kill before removing: a failed create may have started processes.
		// The parents it made go too (limits can fail after Create).
		undo.add(func() error {
			var err error
			if cg.Exists() {
				err = errors.Join(cg.KillAll(), cg.Destroy())
			}
			c.removeMadeParents()
			return err
		})
	}
	if err := cg.Create(); err != nil {
		if !opts.Rootless || !isPermissionError(err) {
			return err
		}
		opts.Log.Warnf("rootless: running without a cgroup (%v)", err)
		if p.spec.Linux.Resources != nil {
			opts.Log.Warnf("rootless: linux.resources are not applied without a cgroup")
		}
		os.Remove(filepath.Join(c.dir, cgroupFile))
		c.state.CgroupPath = ""
		return c.saveState()
	}
	return nil
}

// firstMissingParent returns the highest parent cgroup of path that does
// not exist yet ("" when all do); tincan's own parent, /tincan, is never
// counted, as it is shared by every container.
func firstMissingParent(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 1; i < len(parts); i++ {
		parent := "/" + strings.Join(parts[:i], "/")
		if parent == cgroups.DefaultParent {
			continue
		}
		if m, err := cgroups.New(parent); err == nil && !m.Exists() {
			return parent
		}
	}
	return ""
}

func isPermissionError(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)
}

// cgroupIsFree reports whether the container may treat the cgroup as its
// own: it does not exist yet, or exists (made in advance by an engine) with
// no process in it. A cgroup that already holds processes is shared.
func cgroupIsFree(cg cgroups.Manager) bool {
	if !cg.Exists() {
		return true
	}
	pids, err := cg.Pids()
	return err == nil && len(pids) == 0
}

// newDirPrefix names the temporary directory of a create in progress after
// the id (hashed, to stay within NAME_MAX), so that delete --force of that
// id can find the one a killed create left behind.
func newDirPrefix(id string) string {
	sum := sha256.Sum256([]byte(id))
	return ".new-" + hex.EncodeToString(sum[:8]) + "-"
}

func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("pid file %s: %w", path, err)
	}
	return writeFileAtomic(filepath.Dir(abs), filepath.Base(abs), []byte(strconv.Itoa(pid)))
}

// checkUnsupported refuses security features this build cannot apply:
// running a container without the confinement it asked for would be worse
// than not running it.
func checkUnsupported(s *specs.Spec) error {
	var apparmorProfile, selinuxLabel string
	if p := s.Process; p != nil {
		apparmorProfile, selinuxLabel = p.ApparmorProfile, p.SelinuxLabel
	}
	if err := checkLSMs(apparmorProfile, selinuxLabel, s.Linux.MountLabel); err != nil {
		return err
	}
	for i, m := range s.Mounts {
		if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
			return errdefs.Unsupported("mounts[%d]: idmapped mounts are not supported by this tincan-oci yet", i)
		}
	}
	if p := s.Linux.Personality; p != nil && len(p.Flags) > 0 {
		return errdefs.Unsupported("linux.personality.flags: not supported by this tincan-oci yet")
	}
	return nil
}

// checkLandlock checks the Landlock annotation, so a bad one fails create
// naming it, and warns about what this kernel cannot enforce; the init
// negotiates again when it builds the ruleset.
func checkLandlock(s *specs.Spec, log Logger) error {
	c, err := landlock.FromAnnotations(s.Annotations)
	if c == nil || err != nil {
		return err
	}
	_, warnings, err := c.Negotiate(landlock.ABI())
	if err != nil {
		return err
	}
	for _, w := range warnings {
		log.Warnf("%s", w)
	}
	return nil
}

// checkLSMs checks the AppArmor profile and SELinux labels: well formed,
// and the LSM enabled on this host (the init applies them). "unconfined"
// on a host without AppArmor asks for nothing and passes.
func checkLSMs(apparmorProfile, selinuxLabel, mountLabel string) error {
	if apparmorProfile != "" {
		if err := apparmor.CheckProfileName(apparmorProfile); err != nil {
			return errdefs.InvalidArgument("process.apparmorProfile: %w", err)
		}
		if apparmorProfile != apparmor.Unconfined && !apparmor.Enabled() {
			return errdefs.Unsupported("process.apparmorProfile %q: AppArmor is not enabled on this host", apparmorProfile)
		}
	}
	for _, l := range []struct{ field, label string }{
		{"process.selinuxLabel", selinuxLabel},
		{"linux.mountLabel", mountLabel},
	} {
		if l.label == "" {
			continue
		}
		if err := selinux.CheckLabel(l.label); err != nil {
			return errdefs.InvalidArgument("%s: %w", l.field, err)
		}
		if !selinux.Enabled() {
			return errdefs.Unsupported("%s %q: SELinux is not enabled on this host", l.field, l.label)
		}
	}
	return nil
}
