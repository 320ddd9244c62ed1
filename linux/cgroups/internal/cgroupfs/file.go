package cgroupfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ReadFile returns the content of a cgroup interface file without the
// trailing newline.
func ReadFile(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, pathErrCause(err))
	}
	return strings.TrimSuffix(string(data), "\n"), nil
}

// WriteFile writes data to an existing cgroup interface file in a single
// write(2), because the kernel parses each write on its own. It never creates
// the file: a missing interface file means a missing cgroup or controller.
func WriteFile(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("write %q to %s: %w", data, path, pathErrCause(err))
	}
	_, werr := f.Write([]byte(data))
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("write %q to %s: %w", data, path, pathErrCause(werr))
	}
	return nil
}

// FileExists reports whether path exists; cgroup interface files appear and
// disappear with kernel features and controllers.
func FileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// pathErrCause strips the *fs.PathError wrapper so that messages name the
// file once, in our own words.
func pathErrCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
