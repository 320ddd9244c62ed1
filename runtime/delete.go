package runtime

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/runtime/hooks"
)

// Delete removes a stopped container: its cgroup and state directory, then
// runs the poststop hooks. With force a container in any status is killed
// first, and a container whose state.json is damaged is still found (its
// cgroup path is kept in a file of its own) and removed.
func (c *Container) Delete(force bool, log Logger) error {
	if err := c.Lock(); err != nil {
		return err
	}
	defer c.Unlock()
	status := c.Status()
	if status != Stopped && !force {
		return errdefs.Conflict("cannot delete container %s that is not stopped: %s", c.id, status)
	}
	if c.state == nil && log != nil {
		log.Warnf("container %s: state is unreadable (%v): removing what is left", c.id, c.stateErr)
	}
	var cg cgroups.Manager
	if cgPath, owned := c.ownedCgroup(); owned {
		var err error
		// Already gone is fine: a delete interrupted earlier removed it.
		if cg, err = cgroups.Load(cgPath); err != nil && !errdefs.IsNotFound(err) {
			return err
		}
	}
	// Always, even for a stopped container: without a pid namespace of its
	// own the init's children outlive it, and a create killed midway can
	// leave an init blocked before it ever ran.
	if err := c.killEverything(cg); err != nil {
		return err
	}
	if cg != nil {
		if err := cg.Destroy(); err != nil {
			return err
		}
	}
	c.removeMadeParents()
	if err := c.removeDir(); err != nil {
		return err
	}
	if err := RemoveAbandoned(filepath.Dir(c.dir), c.id); err != nil {
		log.Warnf("%v", err)
	}
	c.runPoststopHooks(log)
	return nil
}

// RemoveAbandoned removes what a create of id that was killed before its
// state directory got its name left in root: the temporary directory. One
// whose lock is held belongs to a create still running and is left alone.
func RemoveAbandoned(root, id string) error {
	matches, _ := filepath.Glob(filepath.Join(root, newDirPrefix(id)+"*"))
	var errs []error
	for _, dir := range matches {
		f, err := os.Open(dir)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
			if err := os.RemoveAll(dir); err != nil {
				errs = append(errs, fmt.Errorf("remove abandoned %s: %w", dir, err))
			}
		}
		f.Close()
	}
	return errors.Join(errs...)
}

// removeDir removes the state directory, the cgroup record last: if this
// is interrupted, the next delete --force still finds what remains.
func (c *Container) removeDir() error {
	entries, err := os.ReadDir(c.dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove state of %s: %w", c.id, err)
	}
	remove := func(path string) error {
		// Plain files and the fifo; RemoveAll only for what else may be there.
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return os.RemoveAll(path)
		}
		return nil
	}
	for _, e := range entries {
		if e.Name() == cgroupFile {
			continue
		}
		if err := remove(filepath.Join(c.dir, e.Name())); err != nil {
			return fmt.Errorf("remove state of %s: %w", c.id, err)
		}
	}
	if err := remove(filepath.Join(c.dir, cgroupFile)); err != nil {
		return fmt.Errorf("remove state of %s: %w", c.id, err)
	}
	if err := remove(c.dir); err != nil {
		return fmt.Errorf("remove state of %s: %w", c.id, err)
	}
	return nil
}

// ownedCgroup returns the container's cgroup if create made it (or found
// it empty): the cgroup record exists only then. A joined cgroup that held
// other processes is never emptied or removed.
func (c *Container) ownedCgroup() (string, bool) {
	path, _ := c.cgroupRecord()
	return path, path != ""
}

// cgroupRecord reads the cgroup record: the cgroup path, and the highest
// parent create made for it ("" when none).
func (c *Container) cgroupRecord() (path, madeParent string) {
	data, err := os.ReadFile(filepath.Join(c.dir, cgroupFile))
	if err != nil {
		return "", ""
	}
	lines := strings.SplitN(strings.TrimSpace(string(data)), "\n", 2)
	path = strings.TrimSpace(lines[0])
	if len(lines) > 1 {
		madeParent = strings.TrimSpace(lines[1])
	}
	return path, madeParent
}

// removeMadeParents removes, bottom up, the parent cgroups create made
// for this container, each only if empty: other containers may have
// their cgroups under the same parents since.
func (c *Container) removeMadeParents() {
	path, top := c.cgroupRecord()
	if top == "" || !strings.HasPrefix(path, top+"/") {
		return
	}
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		if m, err := cgroups.New(dir); err == nil {
			for _, p := range m.Paths() {
				unix.Rmdir(p)
			}
		}
		if dir == top || dir == "/" {
			return
		}
	}
}

// killEverything kills every process of the container and waits for the
// init to be gone.
func (c *Container) killEverything(cg cgroups.Manager) error {
	var errs []error
	if cg != nil {
		if err := cg.KillAll(); err != nil {
			errs = append(errs, err)
		}
	}
	if c.state != nil && c.state.Pid > 0 {
		if err := signalProcess(c.state.Pid, c.state.PidStartTime, unix.SIGKILL); err != nil && !errdefs.IsNotRunning(err) {
			errs = append(errs, err)
		}
		if !waitExit(c.state.Pid, c.state.PidStartTime, 10*time.Second) {
			errs = append(errs, fmt.Errorf("container %s: init %d still alive 10s after SIGKILL", c.id, c.state.Pid))
		}
	}
	return errors.Join(errs...)
}

// runPoststopHooks runs the poststop hooks; failures are warnings.
func (c *Container) runPoststopHooks(log Logger) {
	if c.state == nil || c.state.Config == nil || c.state.Config.Hooks == nil {
		return
	}
	h := c.state.Config.Hooks.Poststop
	if len(h) == 0 {
		return
	}
	st := c.hookState(Stopped)
	if err := hooks.RunAll("poststop", h, &st); err != nil {
		log.Warnf("%v", err)
	}
}
