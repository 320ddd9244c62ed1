// Package errdefs defines the error classes shared by every tincan package.
//
// Packages wrap their errors with one of the sentinel classes below (using
// the constructors or fmt.Errorf with %w); the command-line front ends map a
// class to an exit status and, for tincan-oci, to the message wording that
// engines such as containerd and podman match on. errdefs owns only the
// classification; it does not format or print errors.
package errdefs

import (
	"errors"
	"fmt"
)

// The error classes. Test with errors.Is.
var (
	// ErrNotFound: the named object (container, image, process) does not exist.
	ErrNotFound = errors.New("does not exist")
	// ErrAlreadyExists: an object with that name or id exists already.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInvalidArgument: bad input from the user (flags, config.json, ids).
	ErrInvalidArgument = errors.New("invalid argument")
	// ErrConflict: the object is in a state that does not allow the operation
	// (deleting a running container, starting a stopped one).
	ErrConflict = errors.New("conflict")
	// ErrNotRunning: the container or process is not running, so it cannot
	// be signalled or entered. Engines match on "container not running".
	ErrNotRunning = errors.New("container not running")
	// ErrUnsupported: the host or this build cannot do what was asked.
	ErrUnsupported = errors.New("not supported")
)

// classed joins a message with a class so that errors.Is finds the class
// while Error() shows only the message.
type classed struct {
	class error
	msg   string
	cause error
}

// Error returns the message; it already holds the text of any %w cause.
func (e *classed) Error() string { return e.msg }

func (e *classed) Is(target error) bool { return target == e.class }

func (e *classed) Unwrap() error { return e.cause }

func newf(class error, format string, args ...any) error {
	// Keep %w working in format: fmt.Errorf builds the message and keeps the
	// wrapped chain, and classed adds the class on top.
	err := fmt.Errorf(format, args...)
	return &classed{class: class, msg: err.Error(), cause: errors.Unwrap(err)}
}

// NotFound returns an error of class ErrNotFound with the formatted message.
func NotFound(format string, args ...any) error { return newf(ErrNotFound, format, args...) }

// AlreadyExists returns an error of class ErrAlreadyExists.
func AlreadyExists(format string, args ...any) error { return newf(ErrAlreadyExists, format, args...) }

// InvalidArgument returns an error of class ErrInvalidArgument.
func InvalidArgument(format string, args ...any) error {
	return newf(ErrInvalidArgument, format, args...)
}

// Conflict returns an error of class ErrConflict.
func Conflict(format string, args ...any) error { return newf(ErrConflict, format, args...) }

// NotRunning returns an error of class ErrNotRunning.
func NotRunning(format string, args ...any) error { return newf(ErrNotRunning, format, args...) }

// Unsupported returns an error of class ErrUnsupported.
func Unsupported(format string, args ...any) error { return newf(ErrUnsupported, format, args...) }

// IsNotFound reports whether err is of class ErrNotFound.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsInvalidArgument reports whether err is of class ErrInvalidArgument.
func IsInvalidArgument(err error) bool { return errors.Is(err, ErrInvalidArgument) }

// IsNotRunning reports whether err is of class ErrNotRunning.
func IsNotRunning(err error) bool { return errors.Is(err, ErrNotRunning) }
