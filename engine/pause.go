package engine

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/signals"
	"github.com/tincan/tincan/runtime"
)

// Pause freezes every process of a running container (its cgroup's
// freezer); ps and inspect show it paused until Unpause. The record keeps
// "running": paused is read from the runtime, so a container paused with
// tincan-oci shows the same.
func (s *Store) Pause(ref string) (*Record, error) {
	rec, err := s.Find(ref)
	if err != nil {
		return nil, err
	}
	switch s.LiveState(rec) {
	case StateRunning:
	case StatePaused:
		return nil, errdefs.Conflict("container %s is already paused", rec.Name)
	default:
		return nil, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	c, err := runtime.Load(s.Run, rec.ID)
	if err != nil {
		return nil, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	if err := c.Pause(); err != nil {
		return nil, fmt.Errorf("pause %s: %w", rec.Name, err)
	}
	return rec, nil
}

// Unpause thaws a paused container.
func (s *Store) Unpause(ref string) (*Record, error) {
	rec, err := s.Find(ref)
	if err != nil {
		return nil, err
	}
	if s.LiveState(rec) != StatePaused {
		return nil, errdefs.Conflict("container %s is not paused", rec.Name)
	}
	c, err := runtime.Load(s.Run, rec.ID)
	if err != nil {
		return nil, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	if err := c.Resume(); err != nil {
		return nil, fmt.Errorf("unpause %s: %w", rec.Name, err)
	}
	return rec, nil
}

// thawAfterSignal resumes a paused container after sig was sent to it when
// the signal is meant to end it, as docker does: SIGKILL, the container's
// stop signal, or any signal when it has none configured. Other signals
// stay pending until the container is unpaused.
func (s *Store) thawAfterSignal(rec *Record, c *runtime.Container, sig unix.Signal) {
	if c.Status() != runtime.Paused {
		return
	}
	if sig != unix.SIGKILL && rec.Config.StopSignal != "" {
		if stop, err := signals.Parse(rec.Config.StopSignal); err != nil || stop != sig {
			return
		}
	}
	c.Resume()
}
