// Package runtime is the container object of tincan-oci: its state
// machine, the state directory with its lock, and the operations create,
// start, kill and delete.
//
// It owns the lifecycle and the parent side of the init protocol (the init
// side is runtime/initproc); kernel mechanisms come from linux/*, config
// parsing and validation from spec/. Statuses move creating -> created ->
// running -> stopped (paused in between when frozen); the recorded status
// in state.json is combined with the live process (pid plus start time) to
// give the current one.
package runtime

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/lazyjson"
)

// Status is a container status as the runtime-spec names them.
type Status string

// The statuses.
const (
	Creating Status = "creating"
	Created  Status = "created"
	Running  Status = "running"
	Paused   Status = "paused"
	Stopped  Status = "stopped"
)

// State is what a container's state.json holds.
type State struct {
	// OCIVersion is the runtime-spec version of the config.
	OCIVersion string `json:"ociVersion"`
	// ID is the container id.
	ID string `json:"id"`
	// Status is the last status recorded by an operation: creating, then
	// created. Container.Status combines it with the live process and the
	// exec fifo, which start removes: created without the fifo is
	// running (start records nothing, sparing every start a write).
	Status Status `json:"status"`
	// Pid is the host pid of the container's init process (0 before it
	// exists).
	Pid int `json:"pid"`
	// PidStartTime is the start time of Pid (clock ticks since boot), so a
	// reused pid is not taken for the container.
	PidStartTime uint64 `json:"pidStartTime"`
	// Bundle is the absolute bundle directory.
	Bundle string `json:"bundle"`
	// Rootfs is the absolute root filesystem path.
	Rootfs string `json:"rootfs"`
	// Created is when create started.
	Created time.Time `json:"created"`
	// Annotations are config.json's annotations.
	Annotations map[string]string `json:"annotations,omitempty"`
	// CgroupPath is the container's cgroup, relative to the hierarchy roots.
	CgroupPath string `json:"cgroupPath"`
	// Config is the config as it was at create (the bundle's may change).
	Config *specs.Spec `json:"config"`
}

const (
	stateFile  = "state.json"
	fifoFile   = "exec.fifo"
	cgroupFile = "cgroup"
)

// writeFileAtomic writes data to dir/name through a temporary file and a
// rename, so readers see the old or the new content, never a mix, and an
// interrupted writer leaves the old file.
//
// There is no fsync: it would only matter across a crash of the machine,
// after which every process the state names is gone and the state
// describes nothing (the root is normally a tmpfs, /run, where fsync does
// nothing anyway). On a disk it cost a journal commit per write, 0.3-1 ms
// each and four per `run`, serialised across concurrent creates.
func writeFileAtomic(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, name))
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// writeNewFile creates dir/name, which must not exist, with data: for
// files in a directory nobody reads yet.
func writeNewFile(dir, name string, data []byte) error {
	path := filepath.Join(dir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (c *Container) saveState() error {
	data, err := lazyjson.Marshal(c.state)
	if err != nil {
		return fmt.Errorf("encode state of %s: %w", c.id, err)
	}
	return writeFileAtomic(c.dir, stateFile, data)
}

func readState(dir string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s State
	if err := lazyjson.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}
