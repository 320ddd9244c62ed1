package runtime

import (
	"fmt"
	"time"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
)

// Event is one line of `events`, as runc writes them: {"type":"stats",
// "id":..., "data":{...}} or {"type":"oom","id":...}.
type Event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// statsData is a stats event's data: the cgroup's counters and the fields
// runc adds from sources tincan does not read (Intel RDT, the network
// namespace's interfaces), kept so that the shape is the same.
type statsData struct {
	*cgroups.Stats
	IntelRdt          struct{} `json:"intel_rdt"`
	NetworkInterfaces []any    `json:"network_interfaces"`
}

// Stats returns a stats event: the container's resource usage now.
func (c *Container) Stats() (Event, error) {
	cg, err := c.liveCgroup()
	if err != nil {
		return Event{}, err
	}
	return c.statsEvent(cg)
}

func (c *Container) statsEvent(cg cgroups.Manager) (Event, error) {
	s, err := cg.Stats()
	if err != nil {
		return Event{}, err
	}
	return Event{Type: "stats", ID: c.id, Data: statsData{Stats: s}}, nil
}

// Events streams the container's events to emit until it stops: a stats
// event at once and then every interval, and an "oom" event whenever its
// cgroup runs out of memory. It returns nil when the container has
// stopped, or emit's error.
func (c *Container) Events(interval time.Duration, emit func(Event) error) error {
	if interval <= 0 {
		return errdefs.InvalidArgument("--interval %s: must be positive", interval)
	}
	cg, err := c.liveCgroup()
	if err != nil {
		return err
	}
	done := make(chan struct{})
	defer close(done)
	// Without OOM notification (no memory controller), stats still flow.
	oom, _ := cg.NotifyOOM(done)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	// untilTick emits OOM events until the next tick; stopped reports a
	// container found stopped when its cgroup's OOM stream ended.
	untilTick := func() (stopped bool, err error) {
		for {
			select {
			case <-ticker.C:
				return false, nil
			case _, ok := <-oom:
				if !ok {
					// The cgroup emptied or went: no more OOMs.
					oom = nil
					if c.Status() == Stopped {
						return true, nil
					}
					continue
				}
				if err := emit(Event{Type: "oom", ID: c.id}); err != nil {
					return false, err
				}
			}
		}
	}
	for {
		if c.Status() == Stopped {
			return nil
		}
		ev, err := c.statsEvent(cg)
		if errdefs.IsNotFound(err) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		if err := emit(ev); err != nil {
			return err
		}
		if stopped, err := untilTick(); stopped || err != nil {
			return err
		}
	}
}

// liveCgroup is the cgroup of a container that is not stopped.
func (c *Container) liveCgroup() (cgroups.Manager, error) {
	if c.state == nil {
		return nil, fmt.Errorf("container %q: %w", c.id, c.stateErr)
	}
	if c.Status() == Stopped {
		return nil, errdefs.NotRunning("container not running")
	}
	if c.state.CgroupPath == "" {
		return nil, errdefs.Unsupported("container %s runs without a cgroup (rootless, the cgroup tree is not writable): it has no resource statistics", c.id)
	}
	cg, err := cgroups.Load(c.state.CgroupPath)
	if errdefs.IsNotFound(err) {
		return nil, errdefs.NotRunning("container not running: its cgroup %s is gone", c.state.CgroupPath)
	}
	return cg, err
}
