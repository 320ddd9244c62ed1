package initproc

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/runtime/hooks"
)

// HasParentHooks reports whether the parent must run hooks during create
// (prestart and createRuntime, in the runtime namespace). Both sides use it
// to decide whether the MsgRunHooks exchange happens.
func HasParentHooks(s *specs.Spec) bool {
	return s.Hooks != nil && len(s.Hooks.Prestart)+len(s.Hooks.CreateRuntime) > 0
}

// parentHooks hands control to the parent for the hooks that run in the
// runtime namespace, and waits until they are done.
func (in *initState) parentHooks() error {
	if !HasParentHooks(in.b.Spec) {
		return nil
	}
	if err := Send(in.sock, MsgRunHooks, nil); err != nil {
		return err
	}
	t, payload, err := Recv(in.sock)
	if err != nil {
		return fmt.Errorf("wait for hooks: %w", err)
	}
	if t != MsgHooksDone {
		return fmt.Errorf("wait for hooks: unexpected %s message %q", t, payload)
	}
	return nil
}

// containerState is the hook state as the container sees it.
func (in *initState) containerState(status specs.ContainerState) *specs.State {
	s := in.b.HookState
	s.Status = status
	s.Pid = os.Getpid()
	return &s
}

func (in *initState) createContainerHooks() error {
	if in.b.Spec.Hooks == nil {
		return nil
	}
	return hooks.Run("createContainer", in.b.Spec.Hooks.CreateContainer, in.containerState(specs.StateCreating))
}

func (in *initState) startContainerHooks() error {
	if in.b.Spec.Hooks == nil {
		return nil
	}
	return hooks.Run("startContainer", in.b.Spec.Hooks.StartContainer, in.containerState(specs.StateCreated))
}
