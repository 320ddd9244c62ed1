package engine

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Restart stops a container as Stop does, counts the restart in its
// record and starts it again in the background.
func (s *Store) Restart(ref string, timeout *int, debug bool) (*Record, error) {
	rec, err := s.Stop(ref, timeout)
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockContainer(rec.ID)
	if err != nil {
		return nil, err
	}
	// The monitor reads the record from disk: the count must be saved.
	cur, err := s.Load(rec.ID)
	if err == nil {
		cur.RestartCount++
		err = s.save(cur)
	}
	unlock()
	if err != nil {
		return nil, err
	}
	return cur, s.StartMonitor(cur, false, debug, nil)
}

// awaitPreviousMonitor is the first thing a monitor does: it takes the
// container's monitor lock, held for the monitor's whole life (the kernel
// drops it when the process ends, however it ends). A container started
// again right after it exited thus waits for its previous monitor to
// finish deleting the runtime state and the attach directory, instead of
// racing it; the attach directory is made again afterwards.
func (s *Store) awaitPreviousMonitor(id string) error {
	path := filepath.Join(s.ContainerDir(id), "monitor.lock")
	// Close-on-exec, and never closed: the container must not inherit it.
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return errNoSuchContainer(id)
		}
		return fmt.Errorf("open %s: %w", path, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("lock %s: %w", path, err)
	}
	monitorLock = f
	if err := os.MkdirAll(s.engineRunDir(id), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", s.engineRunDir(id), err)
	}
	return nil
}

// monitorLock keeps the monitor's lock file open (and locked) until the
// monitor process exits.
var monitorLock *os.File
