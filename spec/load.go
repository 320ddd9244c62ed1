package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/lazyjson"
)

// ConfigFile is the name of the configuration file inside a bundle.
const ConfigFile = "config.json"

// Load reads <bundle>/config.json. Fields it does not know are ignored, as
// runc ignores them, so that configurations written for newer runtime-spec
// versions still load.
//
// A missing file gives an errdefs.NotFound error; an empty file, malformed
// JSON or a value of the wrong type gives an errdefs.InvalidArgument error
// that names the file, the line and column and, for a wrong type, the field
// (`/b/config.json:3:14: process.args[0]: cannot unmarshal number into
// string`). Load does not validate the configuration; see Validate.
func Load(bundle string) (*specs.Spec, error) {
	path := filepath.Join(bundle, ConfigFile)
	data, err := os.ReadFile(path)
	if err != nil {
		// The path error repeats "open <path>"; keep only its cause.
		cause := err
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			cause = pathErr.Err
		}
		switch {
		case errors.Is(cause, fs.ErrNotExist):
			return nil, errdefs.NotFound("%s: %w", path, cause)
		case errors.Is(cause, syscall.EISDIR):
			return nil, errdefs.InvalidArgument("%s: %w", path, cause)
		default:
			return nil, fmt.Errorf("%s: %w", path, cause)
		}
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errdefs.InvalidArgument("%s: file is empty", path)
	}
	s := new(specs.Spec)
	// lazyjson: encoding/json's result and errors, without building its
	// tables for every runtime-spec type first (0.8 ms per process).
	if err := lazyjson.Unmarshal(data, s); err != nil {
		return nil, decodeError(path, data, err)
	}
	return s, nil
}

// decodeError turns a json.Unmarshal error into one line that a user can act
// on: file:line:column, and for a type error the field in config.json terms.
// It runs only on failure, so Load stays a single ReadFile and Unmarshal.
func decodeError(path string, data []byte, err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		// Offset counts the bytes read including the offending one.
		line, col := lineColumn(data, syntaxErr.Offset-1)
		return errdefs.InvalidArgument("%s:%d:%d: invalid JSON: %s", path, line, col, syntaxErr.Error())
	case errors.As(err, &typeErr):
		// Offset is just past a scalar, or just past the opening bracket of
		// an array or object; either way the byte before it is inside the
		// offending value.
		field, start, ok := locateValue(data, typeErr.Offset-1)
		if !ok {
			field, start = typeErr.Field, typeErr.Offset-1
		}
		line, col := lineColumn(data, start)
		want := jsonTypeName(typeErr.Type)
		if field == "" {
			return errdefs.InvalidArgument("%s:%d:%d: the configuration must be a JSON object, not %s", path, line, col, typeErr.Value)
		}
		return errdefs.InvalidArgument("%s:%d:%d: %s: cannot unmarshal %s into %s", path, line, col, field, typeErr.Value, want)
	default:
		return errdefs.InvalidArgument("%s: %w", path, err)
	}
}

// lineColumn returns the 1-based line and byte column of data[pos], with pos
// clamped into data.
func lineColumn(data []byte, pos int64) (line, col int) {
	if pos > int64(len(data)) {
		pos = int64(len(data))
	}
	if pos < 0 {
		pos = 0
	}
	before := data[:pos]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(pos) - bytes.LastIndexByte(before, '\n')
	return line, col
}
