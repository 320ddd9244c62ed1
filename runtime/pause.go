package runtime

import (
	"fmt"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
)

// Pause freezes every process of a running container (the v1 freezer, or
// cgroup.freeze on v2); state then reports "paused". As with runc, only a
// running container can be paused ("container not running" otherwise).
func (c *Container) Pause() error {
	if err := c.Lock(); err != nil {
		return err
	}
	defer c.Unlock()
	if c.state == nil {
		return fmt.Errorf("container %q: %w", c.id, c.stateErr)
	}
	if c.Status() != Running {
		return errdefs.NotRunning("container not running")
	}
	cg, err := c.freezerCgroup()
	if err != nil {
		return err
	}
	return cg.Freeze()
}

// Resume thaws a paused container; one that is not paused gives
// "container not paused", as with runc.
func (c *Container) Resume() error {
	if err := c.Lock(); err != nil {
		return err
	}
	defer c.Unlock()
	if c.state == nil {
		return fmt.Errorf("container %q: %w", c.id, c.stateErr)
	}
	if c.Status() != Paused {
		return errdefs.Conflict("container not paused")
	}
	cg, err := c.freezerCgroup()
	if err != nil {
		return err
	}
	return cg.Thaw()
}

// freezerCgroup is the container's cgroup, which pause and resume need.
func (c *Container) freezerCgroup() (cgroups.Manager, error) {
	if c.state.CgroupPath == "" {
		return nil, errdefs.Unsupported("container %s runs without a cgroup (rootless, the cgroup tree is not writable): it cannot be paused", c.id)
	}
	cg, err := cgroups.Load(c.state.CgroupPath)
	if errdefs.IsNotFound(err) {
		return nil, errdefs.NotRunning("container not running: its cgroup %s is gone", c.state.CgroupPath)
	}
	return cg, err
}
