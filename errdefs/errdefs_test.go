package errdefs

import (
	"errors"
	"io/fs"
	"testing"
)

func TestClassesAndWrapping(t *testing.T) {
	err := NotFound("container %q", "abc")
	if !errors.Is(err, ErrNotFound) || errors.Is(err, ErrConflict) {
		t.Fatalf("class of %v is wrong", err)
	}
	if got := err.Error(); got != `container "abc"` {
		t.Fatalf("message %q", got)
	}
	wrapped := InvalidArgument("read config.json: %w", fs.ErrNotExist)
	if !errors.Is(wrapped, ErrInvalidArgument) || !errors.Is(wrapped, fs.ErrNotExist) {
		t.Fatalf("wrapped error lost its class or cause: %v", wrapped)
	}
	if got := wrapped.Error(); got != "read config.json: file does not exist" {
		t.Fatalf("message %q", got)
	}
	if !IsNotFound(err) || IsInvalidArgument(err) || !IsInvalidArgument(wrapped) {
		t.Fatal("Is helpers disagree with errors.Is")
	}
}
