package image

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/testutil"
)

// TestUseSerialisesWithRemove: a Remove that starts while a container is
// being recorded waits for it and then finds the image in use; Use of an
// image removed before fails without recording anything.
func TestUseSerialisesWithRemove(t *testing.T) {
	testutil.RequiresRoot(t)
	reg := newTestRegistry(t)
	reg.push(t, "app:v1", 1)
	s := openStore(t, t.TempDir(), "overlay")
	ctx := context.Background()
	img, err := s.Get(ctx, reg.host+"/app:v1", PullMissing, PullOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var recorded atomic.Bool
	inUse := func(id digest.Digest) bool { return id == img.ID && recorded.Load() }
	removed := make(chan error, 1)
	err = s.Use(img.ID, func() error {
		go func() {
			_, err := s.Remove(reg.host+"/app:v1", false, inUse)
			removed <- err
		}()
		// Time for an unserialised Remove to ask inUse too early.
		time.Sleep(200 * time.Millisecond)
		recorded.Store(true)
		return nil
	})
	if err != nil {
		t.Fatalf("use: %v", err)
	}
	if err := <-removed; !errors.Is(err, errdefs.ErrConflict) {
		t.Fatalf("remove during use: %v, want a conflict (the image is in use)", err)
	}

	if _, err := s.Remove(reg.host+"/app:v1", false, nil); err != nil {
		t.Fatal(err)
	}
	called := false
	err = s.Use(img.ID, func() error { called = true; return nil })
	if !errdefs.IsNotFound(err) || called {
		t.Fatalf("use of a removed image: %v (recorded: %v), want not found and nothing recorded", err, called)
	}
}
