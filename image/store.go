package image

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/storage"
	"github.com/tincan/tincan/storage/native"
	"github.com/tincan/tincan/storage/overlay"
)

// Options configure a Store.
type Options struct {
	// Data is the data root (/var/lib/tincan); the store lives in
	// Data/images and the snapshots in Data/storage/<driver>.
	Data string
	// Driver is the snapshotter, "overlay" or "native"; empty: overlay
	// when the kernel has overlayfs, native otherwise.
	Driver string
	// RegistriesFiles are the registries configurations to try, in order;
	// nil: Data/registries.json, then /etc/tincan/registries.json.
	RegistriesFiles []string
}

// Store is the image store: the content store (blobs by digest), image
// records and names, and the snapshots images unpack into.
type Store struct {
	root    string
	content *contentStore
	snap    storage.Snapshotter
	regOnce sync.Once
	regs    *Registries
	regErr  error
	regFile []string

	// Warn receives what is skipped rather than failed (device nodes in a
	// user namespace, refused xattrs); nil: dropped.
	Warn func(msg string)
}

// Open opens (creating) the store under opts.Data. It reads no image
// records; it is cheap.
func Open(opts Options) (*Store, error) {
	if opts.Data == "" {
		return nil, errdefs.InvalidArgument("image store: no data root")
	}
	root := filepath.Join(opts.Data, "images")
	for _, d := range []string{"blobs", "ingest", "tmp", "meta"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o700); err != nil {
			return nil, fmt.Errorf("create image store %s: %w", root, err)
		}
	}
	driver := opts.Driver
	if driver == "" {
		driver = "native"
		if haveOverlay() {
			driver = "overlay"
		}
	}
	var snap storage.Snapshotter
	var err error
	switch driver {
	case "overlay":
		snap, err = overlay.New(filepath.Join(opts.Data, "storage", "overlay"))
	case "native":
		snap, err = native.New(filepath.Join(opts.Data, "storage", "native"))
	default:
		return nil, errdefs.InvalidArgument("unknown storage driver %q (overlay or native)", driver)
	}
	if err != nil {
		return nil, err
	}
	files := opts.RegistriesFiles
	if files == nil {
		files = []string{filepath.Join(opts.Data, "registries.json"), RegistriesFile}
	}
	return &Store{root: root, content: &contentStore{root: root}, snap: snap, regFile: files}, nil
}

// haveOverlay reports whether the kernel knows overlayfs.
func haveOverlay() bool {
	data, err := os.ReadFile("/proc/filesystems")
	return err == nil && bytes.Contains(data, []byte("\toverlay\n"))
}

// Snapshotter is the store's snapshotter.
func (s *Store) Snapshotter() storage.Snapshotter { return s.snap }

// Registries returns the registries configuration (read once).
func (s *Store) Registries() (*Registries, error) {
	s.regOnce.Do(func() { s.regs, s.regErr = loadRegistries(s.regFile...) })
	return s.regs, s.regErr
}

// lockKind is a flock(2) operation.
type lockKind int

const (
	shared    lockKind = unix.LOCK_SH
	exclusive lockKind = unix.LOCK_EX
)

// lock takes a lock on root/name and returns its release. The metadata
// lock ("lock") serialises changes to records and names; the collector
// lock ("gc.lock") is shared by everything that adds content (pull, load,
// unpack) and exclusive for the garbage collector, so it never removes a
// blob a pull is about to reference.
func (s *Store) lock(name string, kind lockKind, nonBlocking bool) (func(), error) {
	path := filepath.Join(s.root, name)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	how := int(kind)
	if nonBlocking {
		how |= unix.LOCK_NB
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, errBusy
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

var errBusy = errors.New("image store busy")

func (s *Store) lockMeta() (func(), error) { return s.lock("lock", exclusive, false) }

// addingContent holds the collector lock shared.
func (s *Store) addingContent() (func(), error) { return s.lock("gc.lock", shared, false) }
