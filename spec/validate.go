package spec

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

// Validate checks s, read from the bundle at bundle, for every problem that
// can be found without asking the kernel, so that create can refuse a bad
// configuration before it makes anything. It reports the first problem as an
// error of the form `config.json: <field>: <problem>`, of class
// errdefs.InvalidArgument, errdefs.Unsupported for a feature tincan-oci does
// not implement, or errdefs.NotFound for a missing rootfs.
//
// warnings lists what runc accepts but flags, in the same form; they are
// returned even when err is not nil. Validate does not modify s: a relative
// mount destination, for example, is only warned about, and the mount code
// resolves it under the rootfs, which makes it relative to "/".
func Validate(s *specs.Spec, bundle string) (warnings []string, err error) {
	v := &validator{spec: s}
	if err := v.validate(bundle); err != nil {
		return v.warnings, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return v.warnings, nil
}

// validator carries what the checks share: the spec, the namespaces it asks
// for and the warnings found so far.
type validator struct {
	// spec is the configuration being checked; never modified.
	spec *specs.Spec
	// namespaces is linux.namespaces once checkNamespaces has passed it.
	namespaces namespaceSet
	// warnings are complete lines: "config.json: <field>: <problem>".
	warnings []string
}

func (v *validator) warnf(field, format string, args ...any) {
	v.warnings = append(v.warnings, ConfigFile+": "+field+": "+fmt.Sprintf(format, args...))
}

// validate runs the checks in the order a user reads config.json, except
// that linux.namespaces comes before the fields that depend on it.
func (v *validator) validate(bundle string) error {
	s := v.spec
	if s == nil {
		return errdefs.InvalidArgument("no configuration")
	}
	if err := checkVersion(s.Version); err != nil {
		return err
	}
	if err := checkRoot(s, bundle); err != nil {
		return err
	}
	if s.Process != nil {
		warnings, err := validateProcess(s.Process, "process")
		for _, w := range warnings {
			v.warnings = append(v.warnings, ConfigFile+": "+w)
		}
		if err != nil {
			return err
		}
	}
	if err := v.checkNamespaces(); err != nil {
		return err
	}
	if err := v.checkUTSNames(); err != nil {
		return err
	}
	if err := v.checkMounts(); err != nil {
		return err
	}
	if err := checkHooks(s.Hooks); err != nil {
		return err
	}
	for key := range s.Annotations {
		if key == "" {
			return invalidf("annotations", "keys must not be empty")
		}
	}
	if s.Linux != nil {
		if err := v.checkLinux(); err != nil {
			return err
		}
	}
	v.warnOtherPlatforms()
	return nil
}

// invalidf returns an errdefs.InvalidArgument error about field. The field
// is not part of the format because map keys (sysctl names) may contain %.
func invalidf(field, format string, args ...any) error {
	return errdefs.InvalidArgument("%s: %s", field, fmt.Sprintf(format, args...))
}

// checkPathString rejects a path that no system call would accept.
func checkPathString(field, path string) error {
	if strings.IndexByte(path, 0) >= 0 {
		return invalidf(field, "%q contains a NUL byte", path)
	}
	return nil
}

// checkAbsPath requires path to be present and absolute.
func checkAbsPath(field, path string) error {
	if path == "" {
		return invalidf(field, "required")
	}
	if err := checkPathString(field, path); err != nil {
		return err
	}
	if !filepath.IsAbs(path) {
		return invalidf(field, "%q is not an absolute path", path)
	}
	return nil
}

// checkVersion accepts any 1.x.y version, with a pre-release or build suffix
// ("1.0.2-dev" is what runc writes): the 1.x versions are compatible with
// each other, and fields newer than 1.3 are ignored like unknown fields.
func checkVersion(version string) error {
	const field = "ociVersion"
	if version == "" {
		return invalidf(field, "required")
	}
	core, _, _ := strings.Cut(version, "+")
	core, _, _ = strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 || !allDigits(parts[0]) || !allDigits(parts[1]) || !allDigits(parts[2]) {
		return invalidf(field, "malformed version %q, want 1.x.y", version)
	}
	if parts[0] != "1" {
		return invalidf(field, "unsupported version %q, tincan-oci supports 1.x.y", version)
	}
	return nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// checkRoot requires a rootfs that exists and is a directory.
func checkRoot(s *specs.Spec, bundle string) error {
	rootfs, err := RootfsPath(s, bundle)
	if err != nil {
		return err
	}
	info, err := os.Stat(rootfs)
	if err != nil {
		return errdefs.InvalidArgument("root.path: rootfs %s: %w", rootfs, err)
	}
	if !info.IsDir() {
		return invalidf("root.path", "rootfs %s: not a directory", rootfs)
	}
	return nil
}

// maxUTSName is the longest host or domain name the kernel stores
// (__NEW_UTS_LEN); sethostname(2) fails with EINVAL beyond it.
const maxUTSName = 64

// checkUTSNames checks hostname and domainname and that they can be set
// without changing the host's names.
func (v *validator) checkUTSNames() error {
	names := []struct{ field, value string }{
		{"hostname", v.spec.Hostname},
		{"domainname", v.spec.Domainname},
	}
	for _, n := range names {
		if n.value == "" {
			continue
		}
		if len(n.value) > maxUTSName {
			return invalidf(n.field, "%q is longer than %d bytes", n.value, maxUTSName)
		}
		for i := 0; i < len(n.value); i++ {
			if c := n.value[i]; c <= ' ' || c == 0x7f {
				return invalidf(n.field, "%q contains a space or control character", n.value)
			}
		}
		uts, ok := v.namespaces.lookup(specs.UTSNamespace)
		if !ok {
			return invalidf("linux.namespaces", "uts namespace required to set %s", n.field)
		}
		// runc accepts a joined UTS namespace here, and pod engines rely on
		// it; the name then changes for every process in that namespace.
		if uts.Path != "" {
			v.warnf(n.field, "set in the joined uts namespace %s", uts.Path)
		}
	}
	return nil
}

// checkHooks requires absolute hook paths and positive timeouts.
func checkHooks(hooks *specs.Hooks) error {
	if hooks == nil {
		return nil
	}
	lists := []struct {
		field string
		hooks []specs.Hook
	}{
		//lint:ignore SA1019 deprecated, but engines still send prestart hooks
		{"hooks.prestart", hooks.Prestart},
		{"hooks.createRuntime", hooks.CreateRuntime},
		{"hooks.createContainer", hooks.CreateContainer},
		{"hooks.startContainer", hooks.StartContainer},
		{"hooks.poststart", hooks.Poststart},
		{"hooks.poststop", hooks.Poststop},
	}
	for _, list := range lists {
		for i, h := range list.hooks {
			field := elem(list.field, i)
			if err := checkAbsPath(member(field, "path"), h.Path); err != nil {
				return err
			}
			if err := checkNoNUL(member(field, "args"), h.Args); err != nil {
				return err
			}
			if err := checkNoNUL(member(field, "env"), h.Env); err != nil {
				return err
			}
			if h.Timeout != nil && *h.Timeout <= 0 {
				return invalidf(member(field, "timeout"), "must be positive, got %d", *h.Timeout)
			}
		}
	}
	return nil
}

// checkNoNUL rejects a string list that execve(2) cannot pass on.
func checkNoNUL(field string, list []string) error {
	for i, s := range list {
		if strings.IndexByte(s, 0) >= 0 {
			return invalidf(elem(field, i), "%q contains a NUL byte", s)
		}
	}
	return nil
}

// warnOtherPlatforms flags sections for other platforms, which tincan-oci
// ignores as runc does.
func (v *validator) warnOtherPlatforms() {
	s := v.spec
	others := []struct {
		field string
		set   bool
	}{
		{"solaris", s.Solaris != nil},
		{"windows", s.Windows != nil},
		{"vm", s.VM != nil},
		{"zos", s.ZOS != nil},
		{"freebsd", s.FreeBSD != nil},
	}
	for _, o := range others {
		if o.set {
			v.warnf(o.field, "ignored on linux")
		}
	}
}
