package engine

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/console"
	"github.com/tincan/tincan/linux/procfs"
	"github.com/tincan/tincan/runtime"
)

// ExecOptions are docker's exec flags.
type ExecOptions struct {
	// Cmd is the command and its arguments.
	Cmd []string
	// Env entries (KEY=VALUE) are added to the container's environment.
	Env []string
	// User is "user[:group]" (names from the container's /etc/passwd and
	// /etc/group, or ids); empty keeps the container's user.
	User string
	// WorkingDir replaces the container's working directory when set.
	WorkingDir string
	// Tty gives the process a terminal, relayed to the caller's.
	Tty bool
	// Detach returns once the process runs.
	Detach bool
	// Privileged gives the process every capability the host allows.
	Privileged bool
	// Stdin is the caller's input (nil: none, as without -i); Stdout and
	// Stderr its output.
	Stdin, Stdout, Stderr *os.File
	// Debug shows each step of the process's setup on stderr.
	Debug bool
}

// Exec runs a new process in a running container, as docker exec does:
// in all its namespaces, its cgroup and its root, with the container's
// capabilities, seccomp filter, AppArmor profile, Landlock rules,
// no_new_privs, rlimits and environment, changed by the options. In the
// foreground it forwards signals to the process, relays its terminal and
// returns its exit status (128+signal when a signal ended it); detached it
// returns 0 once the process runs. A process that cannot start is an
// *ExitError with docker's status: 127 not found, 126 not executable.
func (s *Store) Exec(ref string, o ExecOptions) (int, error) {
	if len(o.Cmd) == 0 {
		return 0, errdefs.InvalidArgument("exec: no command given")
	}
	if o.WorkingDir != "" && !path.IsAbs(o.WorkingDir) {
		return 0, errdefs.InvalidArgument("--workdir %q: the path must be absolute", o.WorkingDir)
	}
	if o.Detach && o.Tty {
		return 0, errdefs.InvalidArgument("exec --detach --tty: nothing would hold the terminal of a detached process; drop -t")
	}
	rec, err := s.Find(ref)
	if err != nil {
		return 0, err
	}
	switch s.LiveState(rec) {
	case StateRunning:
	case StatePaused:
		return 0, errdefs.Conflict("container %s is paused, unpause the container before exec", rec.Name)
	default:
		return 0, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	c, err := runtime.Load(s.Run, rec.ID)
	if err != nil {
		return 0, errdefs.NotRunning("container %s is not running", rec.Name)
	}
	st, err := c.State()
	if err != nil {
		return 0, fmt.Errorf("exec in %s: %w", rec.Name, err)
	}
	proc, err := s.execProcess(rec, st, &o)
	if err != nil {
		return 0, err
	}
	file, err := s.writeProcessFile(rec, proc)
	if err != nil {
		return 0, err
	}
	defer os.Remove(file)
	stdin := o.Stdin
	if o.Detach {
		// As with docker: a detached process's stdio is /dev/null, never
		// the caller's (a pipe it held would keep the caller's reader
		// waiting for the process to end).
		stdin, o.Stdout, o.Stderr = nil, nil, nil
	}
	if stdin == nil && o.Tty {
		// Without -i nothing is typed into the terminal; the runtime
		// relays its Stdin, the caller's when nil.
		if stdin, err = os.Open(os.DevNull); err != nil {
			return 0, err
		}
		defer stdin.Close()
	}
	var log runtime.Logger = quietLog{}
	if o.Debug {
		log = stderrLog{}
	}
	status, err := runtime.Exec(runtime.ExecOptions{
		Root:        s.Run,
		ID:          rec.ID,
		ProcessFile: file,
		Detach:      o.Detach,
		Stdin:       stdin,
		Stdout:      o.Stdout,
		Stderr:      o.Stderr,
		Debug:       o.Debug,
		Log:         log,
	})
	if err != nil {
		err = fmt.Errorf("exec in %s: %w", rec.Name, err)
		return 0, &ExitError{Code: exitCodeFor(err), Err: err}
	}
	return status, nil
}

// execProcess is the process to run: the container's own (its recorded
// config) changed by the options.
func (s *Store) execProcess(rec *Record, st *runtime.State, o *ExecOptions) (*specs.Process, error) {
	if st.Config == nil || st.Config.Process == nil {
		return nil, fmt.Errorf("exec in %s: the container's state has no process", rec.Name)
	}
	p := *st.Config.Process
	p.Args = o.Cmd
	p.Terminal = o.Tty
	p.ConsoleSize = nil
	p.Env = mergeEnv(p.Env, o.Env)
	if o.Tty {
		if !hasEnv(p.Env, "TERM") {
			p.Env = append(p.Env, "TERM=xterm")
		}
		// The terminal starts with the caller's size; SIGWINCH follows it.
		for _, f := range []*os.File{o.Stdin, o.Stdout} {
			if f == nil {
				continue
			}
			if rows, cols, err := console.Winsize(f); err == nil {
				p.ConsoleSize = &specs.Box{Height: uint(rows), Width: uint(cols)}
				break
			}
		}
	}
	if o.WorkingDir != "" {
		p.Cwd = o.WorkingDir
	}
	if o.User != "" {
		// Names are looked up in the container's files as they are now,
		// through its init's root (checked to be the init still after).
		u, err := resolveUser(fmt.Sprintf("/proc/%d/root", st.Pid), o.User)
		if err != nil {
			return nil, err
		}
		if !procfs.Alive(st.Pid, st.PidStartTime) {
			return nil, errdefs.NotRunning("container %s is not running", rec.Name)
		}
		p.User = specs.User{UID: u.uid, GID: u.gid, AdditionalGids: u.groups}
		// HOME follows the user unless the container's was set explicitly.
		if !hasEnv(rec.Config.Env, "HOME") && !hasEnv(o.Env, "HOME") {
			p.Env = mergeEnv(p.Env, []string{"HOME=" + u.home})
		}
	}
	var bounding []string
	if p.Capabilities != nil {
		bounding = p.Capabilities.Bounding
	}
	if o.Privileged {
		bounding = availableCaps()
	}
	p.Capabilities = &specs.LinuxCapabilities{Bounding: bounding, Effective: bounding, Permitted: bounding}
	if p.User.UID != 0 {
		// As in run: a non-root user holds no capabilities in effect.
		p.Capabilities.Effective, p.Capabilities.Permitted = nil, nil
	}
	return &p, nil
}

// writeProcessFile writes the process as a process.json for the runtime,
// in the container's run directory; the caller removes it.
func (s *Store) writeProcessFile(rec *Record, p *specs.Process) (string, error) {
	data, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("exec in %s: encode the process: %w", rec.Name, err)
	}
	var b [8]byte
	rand.Read(b[:])
	dir := s.engineRunDir(rec.ID)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("exec in %s: %w", rec.Name, err)
	}
	file := filepath.Join(dir, "exec-"+hex.EncodeToString(b[:])+".json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		return "", fmt.Errorf("exec in %s: write %s: %w", rec.Name, file, err)
	}
	return file, nil
}

// stderrLog shows the runtime's warnings and debug lines as the CLI's.
type stderrLog struct{}

func (stderrLog) Warnf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tincan: warning: "+format+"\n", args...)
}

func (stderrLog) Debugf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tincan: debug: "+format+"\n", args...)
}
