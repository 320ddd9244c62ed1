package runtime

import (
	"os"
	"path"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/lazyjson"
	"github.com/tincan/tincan/linux/caps"
	"github.com/tincan/tincan/linux/rlimit"
	"github.com/tincan/tincan/spec"
)

// ExecProcessFlags are runc's exec flags that shape the process when no
// process.json is given: the container's process (config.json) is the
// template and these change it.
type ExecProcessFlags struct {
	// Args is the command and its arguments (required).
	Args []string
	// Terminal allocates a pty (--tty).
	Terminal bool
	// Cwd replaces the working directory when set.
	Cwd string
	// Env entries (NAME=value) are added, replacing variables of the same
	// name.
	Env []string
	// User is "uid[:gid]", numeric, replacing the user when set.
	User string
	// AdditionalGids are added to the user's additional groups.
	AdditionalGids []string
	// Caps are added to the bounding, effective and permitted sets (and to
	// the ambient set when the template has inheritable capabilities).
	Caps []string
	// NoNewPrivs, when set, replaces process.noNewPrivileges.
	NoNewPrivs *bool
	// ProcessLabel and AppArmor replace the SELinux label and the AppArmor
	// profile when set.
	ProcessLabel string
	AppArmor     string
}

// loadExecProcess reads a process.json (the runtime-spec process object),
// as engines pass it to exec.
func loadExecProcess(file string) (*specs.Process, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, errdefs.InvalidArgument("process %s: %w", file, err)
	}
	var p specs.Process
	if err := lazyjson.Unmarshal(data, &p); err != nil {
		return nil, errdefs.InvalidArgument("process %s: %w", file, err)
	}
	return &p, nil
}

// processFromFlags builds the exec'd process from the container's process
// and the flags, copying whatever it changes: the template is the
// container's recorded config.
func processFromFlags(f *ExecProcessFlags, template *specs.Process) (*specs.Process, error) {
	if len(f.Args) == 0 {
		return nil, errdefs.InvalidArgument("process args cannot be empty")
	}
	p := specs.Process{Cwd: "/"}
	if template != nil {
		p = *template
	}
	p.Args = f.Args
	p.Terminal = f.Terminal
	p.ConsoleSize = nil
	if f.Cwd != "" {
		p.Cwd = f.Cwd
	}
	p.Env = mergeEnv(p.Env, f.Env)
	if f.User != "" {
		uidText, gidText, hasGid := strings.Cut(f.User, ":")
		uid, err := strconv.ParseUint(uidText, 10, 32)
		if err != nil {
			return nil, errdefs.InvalidArgument("--user %q: uid %q is not a number", f.User, uidText)
		}
		p.User.UID = uint32(uid)
		if hasGid {
			gid, err := strconv.ParseUint(gidText, 10, 32)
			if err != nil {
				return nil, errdefs.InvalidArgument("--user %q: gid %q is not a number", f.User, gidText)
			}
			p.User.GID = uint32(gid)
		}
	}
	if len(f.AdditionalGids) > 0 {
		gids := append([]uint32(nil), p.User.AdditionalGids...)
		for _, g := range f.AdditionalGids {
			gid, err := strconv.ParseUint(g, 10, 32)
			if err != nil {
				return nil, errdefs.InvalidArgument("--additional-gids %q: not a number", g)
			}
			gids = append(gids, uint32(gid))
		}
		p.User.AdditionalGids = gids
	}
	if len(f.Caps) > 0 {
		var c specs.LinuxCapabilities
		if p.Capabilities != nil {
			c = *p.Capabilities
		}
		c.Bounding = append(append([]string(nil), c.Bounding...), f.Caps...)
		c.Effective = append(append([]string(nil), c.Effective...), f.Caps...)
		c.Permitted = append(append([]string(nil), c.Permitted...), f.Caps...)
		// Ambient capabilities must also be inheritable; --cap adds none to
		// the inheritable set, so only a template that has some gets them.
		if len(c.Inheritable) > 0 {
			c.Ambient = append(append([]string(nil), c.Ambient...), f.Caps...)
		}
		p.Capabilities = &c
	}
	if f.NoNewPrivs != nil {
		p.NoNewPrivileges = *f.NoNewPrivs
	}
	if f.ProcessLabel != "" {
		p.SelinuxLabel = f.ProcessLabel
	}
	if f.AppArmor != "" {
		p.ApparmorProfile = f.AppArmor
	}
	return &p, nil
}

// mergeEnv returns env with each NAME=value of add replacing the variable
// of that name in place, or appended: a duplicate would leave the value to
// whichever one the program's getenv finds first.
func mergeEnv(env, add []string) []string {
	if len(add) == 0 {
		return env
	}
	out := append([]string(nil), env...)
	index := make(map[string]int, len(out))
	for i, kv := range out {
		name, _, _ := strings.Cut(kv, "=")
		if _, seen := index[name]; !seen {
			index[name] = i
		}
	}
	for _, kv := range add {
		name, _, _ := strings.Cut(kv, "=")
		if i, ok := index[name]; ok {
			out[i] = kv
			continue
		}
		index[name] = len(out)
		out = append(out, kv)
	}
	return out
}

// checkExecProcess validates the process before anything is started, with
// the errors naming the field; warnings (capabilities this kernel lacks)
// go to log.
func checkExecProcess(p *specs.Process, log Logger) error {
	switch {
	case len(p.Args) == 0:
		return errdefs.InvalidArgument("process.args: must not be empty")
	case p.Cwd == "":
		return errdefs.InvalidArgument("process.cwd: must not be empty")
	case !path.IsAbs(p.Cwd):
		return errdefs.InvalidArgument("process.cwd %q: must be an absolute path", p.Cwd)
	}
	// The checks config.json's process gets (scheduler, I/O priority,
	// CPU affinity, umask, ...).
	if err := spec.ValidateProcess(p, "process"); err != nil {
		return err
	}
	// The same refusals as create (AppArmor, SELinux), so an exec'd
	// process never runs with less confinement than it asked for.
	if err := checkUnsupported(&specs.Spec{Process: p, Linux: &specs.Linux{}}); err != nil {
		return err
	}
	if p.Capabilities != nil {
		_, warnings, err := caps.FromSpec(p.Capabilities)
		if err != nil {
			return err
		}
		for _, w := range warnings {
			log.Warnf("%s", w)
		}
	}
	for i, r := range p.Rlimits {
		if _, err := rlimit.Parse(r.Type); err != nil {
			return errdefs.InvalidArgument("process.rlimits[%d].type: %w", i, err)
		}
	}
	return nil
}
