// Package hooks runs OCI lifecycle hooks: each hook's program with its args
// and env, the container state as JSON on stdin, and its timeout.
//
// It owns how one hook runs and how a list runs (in order, stopping or
// not at a failure). When each list runs, and in which namespace, is
// decided by the callers: package runtime for hooks in the runtime
// namespace, runtime/initproc for those in the container namespace.
package hooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/lazyjson"
)

// Run runs hooks in order and stops at the first failure, as the
// runtime-spec asks for prestart, createRuntime, createContainer and
// startContainer hooks. kind names the list in errors ("prestart").
func Run(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	data, err := lazyjson.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode state for %s hooks: %w", kind, err)
	}
	for i, h := range hooks {
		if err := runOne(h, data); err != nil {
			return fmt.Errorf("%s hook #%d (%s): %w", kind, i, h.Path, err)
		}
	}
	return nil
}

// RunAll runs every hook even when some fail, as the runtime-spec asks for
// poststart and poststop hooks, and returns the failures joined.
func RunAll(kind string, hooks []specs.Hook, state *specs.State) error {
	if len(hooks) == 0 {
		return nil
	}
	data, err := lazyjson.Marshal(state)
	if err != nil {
		return fmt.Errorf("encode state for %s hooks: %w", kind, err)
	}
	var errs []error
	for i, h := range hooks {
		if err := runOne(h, data); err != nil {
			errs = append(errs, fmt.Errorf("%s hook #%d (%s): %w", kind, i, h.Path, err))
		}
	}
	return errors.Join(errs...)
}

func runOne(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		// args carries argv[0] too, as for execv.
		cmd.Args = h.Args
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = bytes.NewReader(state)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	// A hook that forks a daemon keeping stdout open must not hang us.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}
