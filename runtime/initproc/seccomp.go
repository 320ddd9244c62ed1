package initproc

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/linux/caps"
	"github.com/tincan/tincan/linux/seccomp"
)

// prepareSeccomp decodes the filter the parent compiled and, for a filter
// with SCMP_ACT_NOTIFY, connects to the agent's listener socket while its
// host path is still reachable (before pivot_root).
func (in *initState) prepareSeccomp() error {
	if len(in.b.Seccomp) == 0 {
		return nil
	}
	in.seccomp = new(seccomp.Program)
	if err := in.seccomp.UnmarshalBinary(in.b.Seccomp); err != nil {
		return fmt.Errorf("decode seccomp filter: %w", err)
	}
	in.debugf("at start, last before execve: load a seccomp filter of %d BPF instructions on every thread", len(in.seccomp.Filter))
	if in.seccomp.Notify {
		conn, err := seccomp.ConnectListener(in.b.Spec.Linux.Seccomp.ListenerPath)
		if err != nil {
			return fmt.Errorf("linux.seccomp.listenerPath: %w", err)
		}
		in.seccompAgent = conn
	}
	return nil
}

// needsAdminForSeccomp: without no_new_privs, loading a filter takes
// CAP_SYS_ADMIN, so the init keeps it until the filter is in place.
func (in *initState) needsAdminForSeccomp() bool {
	p := in.process()
	return in.seccomp != nil && (p == nil || !p.NoNewPrivileges)
}

// capsBeforeSeccomp is the capability set applied at the user switch: the
// configured one, plus CAP_SYS_ADMIN when it is needed to load the filter
// (removed again right after loading, before execve).
func (in *initState) capsBeforeSeccomp() caps.Set {
	if !in.needsAdminForSeccomp() {
		return in.caps
	}
	s := in.caps
	s.Permitted = append(append([]caps.Cap(nil), s.Permitted...), caps.SysAdmin)
	s.Effective = append(append([]caps.Cap(nil), s.Effective...), caps.SysAdmin)
	return s
}

// loadSeccomp installs the filter on every thread, as the last thing
// before execve: after it only the final capability change (when
// CAP_SYS_ADMIN was kept for it) and execve itself run.
func (in *initState) loadSeccomp() error {
	if in.seccomp == nil {
		return nil
	}
	fd, err := seccomp.Load(in.seccomp)
	if err != nil {
		return err
	}
	if in.seccompAgent != nil {
		state := specs.ContainerProcessState{
			Version:  specs.Version,
			Fds:      []string{specs.SeccompFdName},
			Pid:      in.b.HostPid,
			Metadata: in.b.Spec.Linux.Seccomp.ListenerMetadata,
			State:    *in.containerState(specs.StateCreated),
		}
		state.State.Pid = in.b.HostPid
		if err := seccomp.SendListenerOn(in.seccompAgent, fd, state); err != nil {
			return fmt.Errorf("send seccomp listener to %s: %w", in.b.Spec.Linux.Seccomp.ListenerPath, err)
		}
		in.seccompAgent = nil
	}
	if in.needsAdminForSeccomp() && in.manageCaps() {
		return caps.ApplyProcess(in.caps)
	}
	return nil
}
