package runtime

import "os"

// Console returns the pty master of a container created by this process
// with a terminal and without a console socket (the caller relays it), or
// nil.
func (c *Container) Console() *os.File {
	if c.initProc == nil {
		return nil
	}
	return c.initProc.console
}
