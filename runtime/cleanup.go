package runtime

import "errors"

// cleanups is the one undo idiom of this package: each step that makes
// something registers how to unmake it; on failure run undoes everything in
// reverse order, on success release forgets it all.
type cleanups struct {
	fns []func() error
}

func (c *cleanups) add(fn func() error) { c.fns = append(c.fns, fn) }

// run undoes the registered steps, newest first, and returns every error.
func (c *cleanups) run() error {
	var errs []error
	for i := len(c.fns) - 1; i >= 0; i-- {
		if err := c.fns[i](); err != nil {
			errs = append(errs, err)
		}
	}
	c.fns = nil
	return errors.Join(errs...)
}

// release keeps what was made.
func (c *cleanups) release() { c.fns = nil }
