package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/linux/procfs"
)

// Container is one container's state directory under the runtime root.
type Container struct {
	id  string
	dir string
	// state is nil when state.json is missing or unreadable; stateErr says
	// why. Only delete --force works on such a container.
	state    *State
	stateErr error
	lock     *os.File
	// initProc is set in the process that created the container, for
	// waiting on it and relaying its terminal in the foreground.
	initProc *initProcess
}

// maxIDLength keeps the state directory and cgroup directory names within
// NAME_MAX.
const maxIDLength = 255

// ValidateID checks a container id: letters, digits, '_', '+', '-' and
// '.', not starting with '.', at most 255 bytes. Anything else could name
// a path outside the runtime root or collide with its own files.
func ValidateID(id string) error {
	switch {
	case id == "":
		return errdefs.InvalidArgument("container id cannot be empty")
	case len(id) > maxIDLength:
		return errdefs.InvalidArgument("invalid container id %.32q...: longer than %d bytes", id, maxIDLength)
	case !validIDChars(id):
		return errdefs.InvalidArgument("invalid container id %q: only letters, digits, '_', '+', '-' and '.' are allowed, not first '.'", id)
	}
	return nil
}

// validIDChars reports whether id is letters, digits, '_', '+', '-' and
// '.', not starting with '.'. (A loop rather than a regular expression:
// compiling one is a tenth of a millisecond of every process's start.)
func validIDChars(id string) bool {
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '+' || c == '-' || c == '.' && i > 0
		if !ok {
			return false
		}
	}
	return true
}

// Load opens the container id under root. A container whose state.json
// cannot be read is still returned (with StateErr set) so that delete
// --force can clean it up.
func Load(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	if _, err := os.Stat(dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errdefs.NotFound("container %q does not exist", id)
		}
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	c := &Container{id: id, dir: dir}
	c.state, c.stateErr = readState(dir)
	return c, nil
}

// ID returns the container id.
func (c *Container) ID() string { return c.id }

// Dir returns the state directory.
func (c *Container) Dir() string { return c.dir }

// State returns the recorded state, or an error if it cannot be read.
func (c *Container) State() (*State, error) {
	if c.state == nil {
		return nil, fmt.Errorf("container %q: state is unreadable: %w", c.id, c.stateErr)
	}
	return c.state, nil
}

// Status derives the current status from the recorded one and the live
// process.
func (c *Container) Status() Status {
	s := c.state
	if s == nil {
		return Stopped
	}
	if s.Status == Creating {
		// A create that is still running holds the lock; one that was
		// killed left the status behind.
		if c.creatorGone() {
			return Stopped
		}
		return Creating
	}
	if !procfs.Alive(s.Pid, s.PidStartTime) {
		return Stopped
	}
	if s.Status == Created {
		// Created until start has released the init. A start killed
		// midway leaves the fifo behind although the program runs: the
		// init is then no longer our binary.
		if _, err := os.Stat(filepath.Join(c.dir, fifoFile)); err == nil && initWaiting(s.Pid) {
			return Created
		}
	}
	if c.frozen() {
		return Paused
	}
	return Running
}

// creatorGone reports whether no create holds the container's lock.
func (c *Container) creatorGone() bool {
	if c.lock != nil {
		// We hold it ourselves: a create in this process is not gone.
		return false
	}
	f, err := os.Open(c.dir)
	if err != nil {
		return true
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return false
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return true
}

func (c *Container) frozen() bool {
	if c.state == nil || c.state.CgroupPath == "" {
		return false
	}
	m, err := cgroups.Load(c.state.CgroupPath)
	if err != nil {
		return false
	}
	st, err := m.FreezerState()
	return err == nil && st == cgroups.Frozen
}

// Lock takes the container's exclusive lock, which serialises the
// operations that change it (start, delete, and create until it is done).
func (c *Container) Lock() error {
	f, err := os.Open(c.dir)
	if errors.Is(err, os.ErrNotExist) {
		// Deleted since it was loaded (a concurrent delete).
		return errdefs.NotFound("container %q does not exist", c.id)
	}
	if err != nil {
		return fmt.Errorf("lock container %q: %w", c.id, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		return fmt.Errorf("lock container %q: %w", c.id, err)
	}
	c.lock = f
	// Re-read: the holder before us may have changed or removed it.
	if _, err := os.Stat(c.dir); err != nil {
		c.Unlock()
		return errdefs.NotFound("container %q does not exist", c.id)
	}
	c.state, c.stateErr = readState(c.dir)
	return nil
}

// Unlock releases the lock taken by Lock.
func (c *Container) Unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// List returns the containers under root, sorted by id. Entries that are
// not container directories are skipped.
func List(root string) ([]*Container, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list containers in %s: %w", root, err)
	}
	var out []*Container
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || ValidateID(e.Name()) != nil {
			continue
		}
		c, err := Load(root, e.Name())
		if err != nil {
			continue
		}
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out, nil
}

// Owner returns the name of the user owning the state directory.
func (c *Container) Owner() string {
	var st unix.Stat_t
	if err := unix.Stat(c.dir, &st); err != nil {
		return ""
	}
	return userName(int(st.Uid))
}
