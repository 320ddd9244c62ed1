package engine

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/runtime"
)

// State is a front-end container state, as docker names them.
type State string

// The states.
const (
	StateCreated State = "created" // record made; the monitor has not started it yet
	StateRunning State = "running"
	StatePaused  State = "paused"
	StateExited  State = "exited"
)

// Record is everything the front end keeps about a container.
type Record struct {
	// ID is the 64-hex-digit id, also the runtime container id.
	ID string `json:"id"`
	// Name is the unique, human name.
	Name string `json:"name"`
	// Created is when the record was made.
	Created time.Time `json:"created"`
	// Config is the run configuration the container was made from.
	Config RunConfig `json:"config"`
	// ImageID is the id (config digest) of Config.Image, resolved at
	// create; ImageLayers are its layer directories, top first: the
	// lower directories of the container's overlay.
	ImageID     string   `json:"imageId,omitempty"`
	ImageLayers []string `json:"imageLayers,omitempty"`
	// State is the last state the monitor or a command recorded.
	State State `json:"state"`
	// Pid is the host pid of the container's init while it runs.
	Pid int `json:"pid,omitempty"`
	// MonitorPid is the pid of the container's monitor while it runs.
	MonitorPid int `json:"monitorPid,omitempty"`
	// StartedAt and FinishedAt bound the last run.
	StartedAt  time.Time `json:"startedAt,omitempty"`
	FinishedAt time.Time `json:"finishedAt,omitempty"`
	// ExitCode is the status of the last run (128+signal when killed).
	ExitCode int `json:"exitCode"`
	// Error is why the last start failed, if it did.
	Error string `json:"error,omitempty"`
	// RestartCount counts restarts.
	RestartCount int `json:"restartCount"`
	// Network is the running container's addresses and ports.
	Network *NetworkSettings `json:"network,omitempty"`
}

// ShortID is the first 12 hex digits of the id.
func (r *Record) ShortID() string { return r.ID[:12] }

// LowerDirs are the read-only directories of the container's overlay,
// top first: the image's layers, or --rootfs.
func (r *Record) LowerDirs() []string {
	if r.Config.Image != "" {
		return r.ImageLayers
	}
	return []string{r.Config.Rootfs}
}

func (s *Store) recordPath(id string) string {
	return filepath.Join(s.ContainerDir(id), "record.json")
}

// save writes the record atomically.
func (s *Store) save(r *Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode record of %s: %w", r.ID, err)
	}
	path := s.recordPath(r.ID)
	tmp, err := os.CreateTemp(filepath.Dir(path), ".record-")
	if err != nil {
		return fmt.Errorf("write record of %s: %w", r.ID, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write record of %s: %w", r.ID, err)
	}
	return nil
}

// Load reads a container's record by exact id.
func (s *Store) Load(id string) (*Record, error) {
	data, err := os.ReadFile(s.recordPath(id))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errNoSuchContainer(id)
		}
		return nil, fmt.Errorf("read record of %s: %w", id, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("parse record of %s: %w", id, err)
	}
	return &r, nil
}

// List returns every container, newest first. Records that cannot be read
// (a remove in progress) are skipped.
func (s *Store) List() ([]*Record, error) {
	entries, err := os.ReadDir(s.containersDir())
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("list containers: %w", err)
	}
	var out []*Record
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if r, err := s.Load(e.Name()); err == nil {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out, nil
}

// Find resolves a name, a full id or a unique id prefix to a record, as
// docker does.
func (s *Store) Find(ref string) (*Record, error) {
	if ref == "" {
		return nil, errdefs.InvalidArgument("empty container name or id")
	}
	all, err := s.List()
	if err != nil {
		return nil, err
	}
	var matches []*Record
	for _, r := range all {
		switch {
		case r.Name == ref || r.ID == ref:
			return r, nil
		case strings.HasPrefix(r.ID, ref):
			matches = append(matches, r)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return nil, errNoSuchContainer(ref)
	}
	return nil, errdefs.InvalidArgument("%q matches %d containers: give more of the id", ref, len(matches))
}

func errNoSuchContainer(ref string) error {
	return errdefs.NotFound("no such container: %s", ref)
}

// LiveState is the record's state checked against the runtime: a container
// recorded as running whose init has gone (its monitor was killed) is
// exited.
func (s *Store) LiveState(r *Record) State {
	if r.State != StateRunning && r.State != StatePaused {
		return r.State
	}
	c, err := runtime.Load(s.Run, r.ID)
	if err != nil {
		return StateExited
	}
	switch c.Status() {
	case runtime.Running, runtime.Created, runtime.Creating:
		return StateRunning
	case runtime.Paused:
		return StatePaused
	}
	return StateExited
}
