package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/runtime"
	"github.com/tincan/tincan/runtime/initproc"
	"github.com/tincan/tincan/spec"
	"github.com/tincan/tincan/storage"
)

// CreateOptions are the inputs of Create beyond the run configuration.
type CreateOptions struct {
	// Name is the container name; generated when empty.
	Name string
	// Config is what to run.
	Config RunConfig
	// Image is where Config.Image is found (needed only then).
	Image *ImageSource
	// Seccomp returns the profile for a capability set (the default
	// profile, or one read from a file).
	Seccomp func(caps []string) (*specs.LinuxSeccomp, error)
	// Warn receives warnings about the config.
	Warn func(format string, args ...any)
}

// Create makes a container record and its bundle; nothing runs yet. The
// root filesystem is an image (found or pulled, unpacked, its config
// merged with the run's) or a --rootfs directory. A name already in use,
// a missing image or rootfs, or a config the runtime would refuse fails
// here, leaving nothing behind: no record, no directory, no volume it
// made.
func (s *Store) Create(ctx context.Context, opts CreateOptions) (rec *Record, err error) {
	c := opts.Config
	if err := rootlessImageUnsupported(&c); err != nil {
		return nil, err
	}
	var img resolvedImage
	switch {
	case c.Image != "" && c.Rootfs != "":
		return nil, errdefs.InvalidArgument("image %s and --rootfs %s: give one or the other", c.Image, c.Rootfs)
	case c.Image != "" && c.RootfsRW:
		return nil, errdefs.InvalidArgument("--rootfs-rw applies to --rootfs only: a container from an image always runs on its own overlay")
	case c.Image != "":
		if img, err = resolveImage(ctx, &c, opts.Image); err != nil {
			return nil, err
		}
	case c.Rootfs != "":
		rootfs, err := filepath.Abs(c.Rootfs)
		if err != nil {
			return nil, errdefs.InvalidArgument("--rootfs %s: %v", c.Rootfs, err)
		}
		if fi, err := os.Stat(rootfs); err != nil {
			return nil, errdefs.InvalidArgument("--rootfs: %v", err)
		} else if !fi.IsDir() {
			return nil, errdefs.InvalidArgument("--rootfs %s: not a directory", rootfs)
		}
		c.Rootfs = rootfs
	default:
		return nil, errdefs.InvalidArgument("no image: tincan run IMAGE [COMMAND...], or --rootfs DIR COMMAND...")
	}
	if opts.Name != "" {
		if err := validateName(opts.Name); err != nil {
			return nil, err
		}
	}
	if err := s.resolveNetworks(&c); err != nil {
		return nil, err
	}
	unlock, err := s.lockNames()
	if err != nil {
		return nil, err
	}
	defer unlock()
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, r := range all {
		taken[r.Name] = true
	}
	name := opts.Name
	if name == "" {
		name = generateName(taken)
	} else if taken[name] {
		return nil, errdefs.AlreadyExists("the container name %q is already in use", name)
	}
	id, err := newID()
	if err != nil {
		return nil, err
	}
	rec = &Record{ID: id, Name: name, Created: time.Now().UTC(), Config: c, State: StateCreated}
	dir := s.ContainerDir(id)
	var volumes []string
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
			for _, v := range volumes {
				os.RemoveAll(filepath.Join(s.volumesDir(), v))
			}
		}
	}()
	for _, d := range []string{"bundle", "rootfs/upper", "rootfs/work", "rootfs/merged"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("create container directory: %w", err)
		}
	}
	lower := []string{c.Rootfs}
	if c.Image != "" {
		rec.ImageID, rec.ImageLayers = img.id.String(), img.layers
		if len(img.layers) == 0 {
			// An image without layers: an empty directory under the
			// container's writable layer.
			empty := filepath.Join(dir, "rootfs/empty")
			if err := os.Mkdir(empty, 0o755); err != nil {
				return nil, fmt.Errorf("create container directory: %w", err)
			}
			rec.ImageLayers = []string{empty}
		}
		lower = rec.ImageLayers
		if err := checkOverlayOptions(lower, dir); err != nil {
			return nil, fmt.Errorf("image %s: %w", c.Image, err)
		}
	}
	// The overlay's root directory takes its mode and owner from the
	// upper directory: copy them from the top layer's root, or a non-root
	// container user could not even enter /.
	if err := copyRootAttrs(lower[0], filepath.Join(dir, "rootfs/upper")); err != nil {
		return nil, err
	}
	os.Chmod(filepath.Join(dir, "rootfs/merged"), 0o755)
	os.Chmod(filepath.Join(dir, "bundle"), 0o755)
	if volumes, err = s.prepareVolumes(rec, storage.Layered{Layers: lower}); err != nil {
		return nil, err
	}
	if err := s.writeBundle(rec, opts); err != nil {
		return nil, err
	}
	if err := s.prepareRootlessUpper(rec); err != nil {
		return nil, err
	}
	if c.Image == "" {
		if err := s.save(rec); err != nil {
			return nil, err
		}
		return rec, nil
	}
	// Saved under the image store's lock, so that rmi and image prune
	// either see the container or ran before it existed (then this fails).
	if err := opts.Image.Store.Use(img.id, func() error { return s.save(rec) }); err != nil {
		return nil, fmt.Errorf("image %s: %w", c.Image, err)
	}
	return rec, nil
}

// overlayOptionsMax is the most mount(2) copies of an overlay's options:
// one page.
const overlayOptionsMax = 4096 - 1

// checkOverlayOptions refuses an image with more layers than one overlay
// mount can stack, with a clear error rather than the kernel's EINVAL at
// start.
func checkOverlayOptions(lower []string, dir string) error {
	n := len("lowerdir=,upperdir=,workdir=,userxattr") + 2*len(filepath.Join(dir, "rootfs/upper"))
	for _, l := range lower {
		n += len(l) + 1
	}
	if n > overlayOptionsMax {
		return errdefs.Unsupported("%d layers: their paths make %d bytes of overlay options, more than the %d one mount takes",
			len(lower), n, overlayOptionsMax)
	}
	return nil
}

// copyRootAttrs gives dst the mode and owner of src.
func copyRootAttrs(src, dst string) error {
	var st unix.Stat_t
	if err := unix.Stat(src, &st); err != nil {
		return fmt.Errorf("stat rootfs %s: %w", src, err)
	}
	// A rootless caller's upper directory stays its own: root in the
	// container's user namespace.
	if !rootlessCaller() {
		if err := os.Chown(dst, int(st.Uid), int(st.Gid)); err != nil {
			return fmt.Errorf("prepare overlay: %w", err)
		}
	}
	if err := os.Chmod(dst, os.FileMode(st.Mode&0o7777)); err != nil {
		return fmt.Errorf("prepare overlay: %w", err)
	}
	return nil
}

// writeBundle writes config.json and the /etc files of the container.
func (s *Store) writeBundle(rec *Record, opts CreateOptions) error {
	bundle := filepath.Join(s.ContainerDir(rec.ID), "bundle")
	c := &rec.Config
	hostname := c.Hostname
	if hostname == "" {
		hostname = rec.ShortID()
	}
	var shareFrom, netns string
	if usesSandbox(c) {
		netns = s.netnsPath(rec.ID)
	}
	if ref, ok := strings.CutPrefix(c.Network, "container:"); ok {
		target, err := s.Find(ref)
		if err != nil {
			return fmt.Errorf("--network %s: %w", c.Network, err)
		}
		shareFrom = filepath.Join(s.ContainerDir(target.ID), "bundle")
	}
	if err := writeEtcFiles(bundle, hostname, c, shareFrom); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the tincan binary for --init: %w", err)
	}
	rootfs := c.Rootfs
	if !c.RootfsRW {
		rootfs = filepath.Join(s.ContainerDir(rec.ID), "rootfs/merged")
	}
	sp, err := buildSpec(rec, specInputs{
		rootfs:       rootfs,
		lookupRoot:   c.Rootfs,
		lookupLayers: rec.ImageLayers,
		bundle:       bundle,
		initBinary:   self,
		volumes:      s.VolumePath,
		seccomp:      opts.Seccomp,
		netns:        netns,
	})
	if err != nil {
		return err
	}
	warnings, err := spec.Validate(sp, bundle)
	if err != nil {
		return err
	}
	// The limits as the runtime checks them at start: impossible ones
	// (swap below memory, a CPU quota under 1ms) fail the run here, with
	// nothing left, not as a container that cannot start.
	resourceWarnings, err := cgroups.Validate(sp.Linux.Resources)
	if err != nil {
		return err
	}
	warnings = append(warnings, resourceWarnings...)
	for _, w := range warnings {
		if opts.Warn != nil {
			opts.Warn("%s", w)
		}
	}
	data, err := json.MarshalIndent(sp, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o644)
}

// createOptions are the runtime options the monitor creates rec with.
func (s *Store) createOptions(rec *Record) (runtime.CreateOptions, error) {
	dir := s.ContainerDir(rec.ID)
	opts := runtime.CreateOptions{
		Root:     s.Run,
		ID:       rec.ID,
		Bundle:   filepath.Join(dir, "bundle"),
		Rootless: os.Geteuid() != 0,
		Log:      quietLog{},
	}
	if !rec.Config.RootfsRW {
		opts.RootfsOverlay = &initproc.Overlay{
			Lower: rec.LowerDirs(),
			Upper: filepath.Join(dir, "rootfs/upper"),
			Work:  filepath.Join(dir, "rootfs/work"),
		}
	}
	return opts, nil
}

// StartMonitor starts the monitor of a created (or exited) container and
// waits until the container runs or fails to. With attached, the monitor
// waits for an attach client to send frameStart, and attach is called
// between the two to connect that client.
func (s *Store) StartMonitor(rec *Record, attached bool, debug bool, attach func() error) error {
	if err := os.MkdirAll(s.engineRunDir(rec.ID), 0o700); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	args := []string{"tincan", "monitor", rec.ID}
	if attached {
		args = append(args, "--attached")
	}
	if debug {
		args = append(args, "--debug")
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer devnull.Close()
	cmd := &exec.Cmd{
		Path:       self,
		Args:       args,
		Env:        monitorEnv(s),
		Stdin:      devnull,
		Stdout:     devnull,
		Stderr:     devnull,
		ExtraFiles: []*os.File{w},
		// A session of its own: the monitor outlives the CLI and its
		// terminal's signals.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		r.Close()
		return fmt.Errorf("start monitor: %w", err)
	}
	w.Close()
	defer r.Close()
	// The monitor is not waited for: it outlives us.
	cmd.Process.Release()
	lines := bufio.NewReader(r)
	for {
		line, err := lines.ReadString('\n')
		line = strings.TrimSpace(line)
		switch {
		case line == "created" && attach != nil:
			if err := attach(); err != nil {
				return err
			}
			continue
		case line == "ok":
			return nil
		case strings.HasPrefix(line, "debug: "), strings.HasPrefix(line, "warning: "):
			fmt.Fprintf(os.Stderr, "tincan: %s\n", line)
			continue
		case strings.HasPrefix(line, "error: "):
			return startError(strings.TrimPrefix(line, "error: "))
		case err != nil:
			return errors.New("the container's monitor exited before the container started")
		}
	}
}

// monitorEnv is the monitor's environment: the store's locations, so it
// finds the same store as the CLI, and nothing else of the caller's.
func monitorEnv(s *Store) []string {
	// One P is plenty for copying a container's output, and saves the
	// per-P caches and threads: the monitor's memory is per container.
	env := []string{"TINCAN_DATA=" + s.Data, "TINCAN_RUN=" + s.Run, "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "GOMAXPROCS=1"}
	if v := os.Getenv("HOME"); v != "" {
		env = append(env, "HOME="+v)
	}
	for _, k := range bridgeEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// ExitError is a failure with the exit status docker uses for it: 125 for
// tincan's own errors, 126 when the command cannot be executed, 127 when
// it is not found.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func startError(msg string) error {
	err := errors.New(msg)
	return &ExitError{Code: exitCodeFor(err), Err: err}
}

// exitCodeFor classifies a start failure the way docker reports it.
func exitCodeFor(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "exec: \"") && strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "exec: \"") && strings.Contains(msg, "permission denied"),
		strings.Contains(msg, "is a directory"):
		return 126
	}
	return 125
}
