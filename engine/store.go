package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// Store is the front end's state: records under Data, runtime state and
// sockets under Run.
type Store struct {
	// Data is the persistent root (/var/lib/tincan).
	Data string
	// Run is the runtime root (/run/tincan), shared with tincan-oci.
	Run string
}

// DefaultStore returns the store for the calling user: /var/lib/tincan and
// /run/tincan for root, XDG directories otherwise.
func DefaultStore() *Store {
	if os.Geteuid() == 0 {
		return &Store{Data: "/var/lib/tincan", Run: "/run/tincan"}
	}
	data := os.Getenv("XDG_DATA_HOME")
	if data == "" {
		data = filepath.Join(os.Getenv("HOME"), ".local", "share")
	}
	run := os.Getenv("XDG_RUNTIME_DIR")
	if run == "" {
		run = filepath.Join(os.TempDir(), "tincan-"+strconv.Itoa(os.Geteuid()))
	}
	return &Store{Data: filepath.Join(data, "tincan"), Run: filepath.Join(run, "tincan")}
}

func (s *Store) containersDir() string { return filepath.Join(s.Data, "containers") }

// ContainerDir is where a container's record, bundle and log live.
func (s *Store) ContainerDir(id string) string { return filepath.Join(s.containersDir(), id) }
func (s *Store) volumesDir() string            { return filepath.Join(s.Data, "volumes") }
func (s *Store) engineRunDir(id string) string {
	return filepath.Join(s.Run, "engine", id)
}

// AttachSocket is the path of a container's attach socket.
func (s *Store) AttachSocket(id string) string {
	return filepath.Join(s.engineRunDir(id), "attach.sock")
}

// ensure creates the store's directories.
func (s *Store) ensure() error {
	for _, d := range []string{s.containersDir(), s.volumesDir(), filepath.Join(s.Run, "engine")} {
		if err := os.MkdirAll(d, 0o711); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	return nil
}

// lockNames takes the store-wide lock that makes name checks and record
// creation atomic across concurrent tincan commands. The returned function
// releases it.
func (s *Store) lockNames() (func(), error) {
	if err := s.ensure(); err != nil {
		return nil, err
	}
	path := filepath.Join(s.Data, "names.lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

// lockContainer takes a container's own lock, held by operations that
// change it (start, stop, remove); the monitor holds it only briefly.
func (s *Store) lockContainer(id string) (func(), error) {
	path := filepath.Join(s.ContainerDir(id), "lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNoSuchContainer(id)
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock container %s: %w", id, err)
	}
	return func() { f.Close() }, nil
}
