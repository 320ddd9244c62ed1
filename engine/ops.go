package engine

import (
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/signals"
	"github.com/tincan/tincan/linux/procfs"
	"github.com/tincan/tincan/runtime"
)

// Kill sends sig to the container's main process; a paused container is
// thawed after a signal meant to end it (see thawAfterSignal).
func (s *Store) Kill(ref string, sig unix.Signal) (*Record, error) {
	rec, err := s.Find(ref)
	if err != nil {
		return nil, err
	}
	if st := s.LiveState(rec); st != StateRunning && st != StatePaused {
		return nil, errdefs.Conflict("container %s is not running", rec.Name)
	}
	c, err := runtime.Load(s.Run, rec.ID)
	if err != nil {
		return nil, err
	}
	if err := c.Kill(sig, false); err != nil {
		return nil, fmt.Errorf("kill %s: %w", rec.Name, err)
	}
	s.thawAfterSignal(rec, c, sig)
	return rec, nil
}

// Stop sends the stop signal, waits up to timeout for the container to
// exit, then kills it. A container that is not running is left as is.
func (s *Store) Stop(ref string, timeout *int) (*Record, error) {
	rec, err := s.Find(ref)
	if err != nil {
		return nil, err
	}
	if st := s.LiveState(rec); st != StateRunning && st != StatePaused {
		return rec, nil
	}
	sig := unix.SIGTERM
	if rec.Config.StopSignal != "" {
		if sig, err = signals.Parse(rec.Config.StopSignal); err != nil {
			return nil, err
		}
	}
	wait := 10
	if rec.Config.StopTimeout != nil {
		wait = *rec.Config.StopTimeout
	}
	if timeout != nil {
		wait = *timeout
	}
	c, err := runtime.Load(s.Run, rec.ID)
	if err != nil {
		return rec, nil
	}
	if wait > 0 {
		c.Kill(sig, false)
		// A paused container must run to handle its stop signal.
		s.thawAfterSignal(rec, c, sig)
		if s.waitExited(rec, time.Duration(wait)*time.Second) {
			return rec, nil
		}
	}
	c.Kill(unix.SIGKILL, true)
	if !s.waitExited(rec, 30*time.Second) {
		return nil, fmt.Errorf("container %s did not stop", rec.Name)
	}
	return rec, nil
}

// waitExited polls until the container has exited and its monitor has
// recorded it (or is gone), up to timeout.
func (s *Store) waitExited(rec *Record, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for {
		cur, err := s.Load(rec.ID)
		if err != nil {
			return true
		}
		done := cur.State == StateExited || cur.State == StateCreated
		if !done && s.LiveState(cur) == StateExited && !monitorAlive(cur) {
			done = true
		}
		if done {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func monitorAlive(rec *Record) bool {
	return rec.MonitorPid > 0 && procfs.Alive(rec.MonitorPid, 0)
}

// Wait blocks until the container exits and returns its exit status.
func (s *Store) Wait(ref string) (int, error) {
	rec, err := s.Find(ref)
	if err != nil {
		return 0, err
	}
	for {
		cur, err := s.Load(rec.ID)
		if err != nil {
			// Removed (--rm) after it ended: the status is gone with it.
			return rec.ExitCode, nil
		}
		if cur.State == StateExited || (s.LiveState(cur) == StateExited && !monitorAlive(cur)) {
			return cur.ExitCode, nil
		}
		rec = cur
		time.Sleep(20 * time.Millisecond)
	}
}

// Remove deletes a container. A running one needs force (it is killed).
func (s *Store) Remove(ref string, force, volumes bool) (*Record, error) {
	rec, err := s.Find(ref)
	if err != nil {
		return nil, err
	}
	if st := s.LiveState(rec); st == StateRunning || st == StatePaused {
		if !force {
			return nil, errdefs.Conflict("cannot remove container %s: container is running: stop the container before removing or force remove", rec.Name)
		}
		if c, err := runtime.Load(s.Run, rec.ID); err == nil {
			c.Kill(unix.SIGKILL, true)
		}
		s.waitExited(rec, 30*time.Second)
	}
	// The monitor may still be cleaning up; let it finish.
	deadline := time.Now().Add(10 * time.Second)
	for cur, err := s.Load(rec.ID); err == nil && monitorAlive(cur) && time.Now().Before(deadline); cur, err = s.Load(rec.ID) {
		time.Sleep(10 * time.Millisecond)
	}
	if usesSandbox(&rec.Config) {
		// A monitor that was killed left its network behind.
		if err := s.Networks().Detach(rec.ID); err != nil {
			return nil, fmt.Errorf("remove the network of %s: %w", rec.Name, err)
		}
	}
	if err := s.removeFiles(rec.ID); err != nil {
		return nil, err
	}
	if volumes {
		s.removeAnonymousVolumes(rec)
	}
	return rec, nil
}

// removeFiles removes everything of a container: its runtime state (the
// runtime kills what is left and removes the cgroup), attach dir, record
// and directories.
func (s *Store) removeFiles(id string) error {
	// The monitor deletes the runtime container when it exits, possibly
	// at the same time: already gone is fine.
	if c, err := runtime.Load(s.Run, id); err == nil {
		if err := c.Delete(true, quietLog{}); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
	}
	runtime.RemoveAbandoned(s.Run, id)
	s.sweepRootlessNetwork(id)
	os.RemoveAll(s.engineRunDir(id))
	if err := os.RemoveAll(s.ContainerDir(id)); err != nil {
		return fmt.Errorf("remove container %s: %w", id, err)
	}
	return nil
}

// Rename gives a container a new, unused name.
func (s *Store) Rename(ref, name string) error {
	if err := validateName(name); err != nil {
		return err
	}
	unlock, err := s.lockNames()
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := s.Find(ref)
	if err != nil {
		return err
	}
	all, err := s.List()
	if err != nil {
		return err
	}
	for _, r := range all {
		if r.Name == name && r.ID != rec.ID {
			return errdefs.AlreadyExists("the container name %q is already in use", name)
		}
	}
	unlockC, err := s.lockContainer(rec.ID)
	if err != nil {
		return err
	}
	defer unlockC()
	cur, err := s.Load(rec.ID)
	if err != nil {
		return err
	}
	cur.Name = name
	return s.save(cur)
}

// Prune removes every container that is not running and returns their ids.
func (s *Store) Prune() ([]string, error) {
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var removed []string
	for _, r := range all {
		if st := s.LiveState(r); st == StateRunning || st == StatePaused || monitorAlive(r) {
			continue
		}
		if err := s.removeFiles(r.ID); err != nil {
			return removed, err
		}
		removed = append(removed, r.ID)
	}
	return removed, nil
}
