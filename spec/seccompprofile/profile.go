// Package seccompprofile ships tincan's default seccomp profile and turns
// profiles in Docker's format into runtime-spec linux.seccomp for one
// container.
//
// The default profile (default.json, embedded) has the allow list,
// argument conditions and capability rules of Docker's default profile,
// written from Docker's seccomp documentation and cross-checked against
// moby/profiles seccomp/default.json (2026: socket families allow-listed,
// AF_ALG and AF_VSOCK denied).
// Like Docker's, it is written for every capability set and architecture:
// rules carry "includes"/"excludes" conditions on the container's
// capabilities, the architecture and the kernel version, and an "archMap"
// says which architectures a filter for a native one covers. Resolve (or
// ForCaps) picks the rules that apply to one container and gives the
// runtime-spec object a config.json carries; the front end does that with
// the container's bounding set. Keeping Docker's format also lets users
// bring profiles written for Docker.
//
// It owns the profile data and its resolution; it does not compile or load
// filters (linux/seccomp does) and it does not decide which capabilities a
// container gets.
package seccompprofile

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	_ "embed"

	"github.com/tincan/tincan/errdefs"
)

//go:embed default.json
var defaultJSON []byte

// Profile is a seccomp profile in Docker's format.
type Profile struct {
	// Comment is free text.
	Comment string `json:"comment,omitempty"`
	// DefaultAction applies to syscalls no rule allows.
	DefaultAction specs.LinuxSeccompAction `json:"defaultAction"`
	// DefaultErrnoRet is the errno of an SCMP_ACT_ERRNO default action.
	DefaultErrnoRet *uint `json:"defaultErrnoRet,omitempty"`
	// ArchMap lists, per native architecture, the other ABIs a process
	// may use on it (x86_64: i386 and x32).
	ArchMap []ArchMap `json:"archMap,omitempty"`
	// Architectures is used as is when the profile has no archMap.
	Architectures []specs.Arch `json:"architectures,omitempty"`
	// Flags are seccomp(2) filter flags.
	Flags []specs.LinuxSeccompFlag `json:"flags,omitempty"`
	// ListenerPath and ListenerMetadata are the SCMP_ACT_NOTIFY agent.
	ListenerPath     string `json:"listenerPath,omitempty"`
	ListenerMetadata string `json:"listenerMetadata,omitempty"`
	// Syscalls are the rules, tried in order.
	Syscalls []Rule `json:"syscalls"`
}

// ArchMap is one native architecture and the ones it also runs.
type ArchMap struct {
	Arch      specs.Arch   `json:"architecture"`
	SubArches []specs.Arch `json:"subArchitectures,omitempty"`
}

// Rule is a runtime-spec syscall rule with conditions on the container.
type Rule struct {
	specs.LinuxSyscall
	// Comment is free text.
	Comment string `json:"comment,omitempty"`
	// Includes must all hold for the rule to apply.
	Includes Filter `json:"includes"`
	// Excludes: the rule does not apply if any of them holds.
	Excludes Filter `json:"excludes"`
}

// Filter is a condition on the container a rule is resolved for.
type Filter struct {
	// Caps are capability names ("CAP_SYS_ADMIN"). Includes: all of them
	// in the container's set; excludes: any of them.
	Caps []string `json:"caps,omitempty"`
	// Arches are Go architecture names as Docker spells them ("amd64",
	// "arm64", "x86" for 386, "x32", "s390x", ...).
	Arches []string `json:"arches,omitempty"`
	// MinKernel is a kernel version "major.minor": includes, the running
	// kernel is at least that; excludes, it is at least that.
	MinKernel string `json:"minKernel,omitempty"`
}

// Target is the container a profile is resolved for.
type Target struct {
	// Caps is the container's capability set (its bounding set), with or
	// without the CAP_ prefix, in any case.
	Caps []string
	// Arch is the Go architecture name (runtime.GOARCH).
	Arch string
	// Kernel is "major.minor" of the kernel the container will run on;
	// empty means the running kernel.
	Kernel string
}

var parsedDefault struct {
	once sync.Once
	p    *Profile
	err  error
}

// defaultProfile parses the embedded profile on first use, not at package
// init: most invocations of the runtime never need it.
func defaultProfile() *Profile {
	parsedDefault.once.Do(func() {
		parsedDefault.p, parsedDefault.err = Parse(defaultJSON)
	})
	if parsedDefault.err != nil {
		// The embedded data is checked by the package tests.
		panic(fmt.Sprintf("embedded default seccomp profile: %v", parsedDefault.err))
	}
	return parsedDefault.p
}

// DefaultProfile returns the default profile unresolved, for callers that
// resolve it themselves; it is shared: do not modify it.
func DefaultProfile() *Profile { return defaultProfile() }

// Default returns the default profile for this architecture and kernel
// and a container with none of the capabilities its rules look at (such
// as the default config of `tincan-oci spec`, whose three capabilities
// gate nothing here): the strictest form. A container with more
// capabilities needs ForCaps.
func Default() *specs.LinuxSeccomp {
	return ForCaps(nil, runtime.GOARCH)
}

// ForCaps returns the default profile for a container with capability set
// caps (its bounding set) on architecture arch (a GOARCH value), as Docker
// resolves its default profile. It returns nil for an architecture without
// a seccomp name (not a GOARCH Linux runs on): callers must treat that as
// an error, not as "no filter".
func ForCaps(caps []string, arch string) *specs.LinuxSeccomp {
	s, err := defaultProfile().Resolve(Target{Caps: caps, Arch: arch})
	if err != nil {
		return nil
	}
	return s
}

// Parse reads a profile in Docker's format (a plain runtime-spec
// linux.seccomp object is one too: it has no conditions).
func Parse(data []byte) (*Profile, error) {
	var p Profile
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, errdefs.InvalidArgument("seccomp profile: %w", err)
	}
	if p.DefaultAction == "" {
		return nil, errdefs.InvalidArgument("seccomp profile: defaultAction: missing")
	}
	for i, r := range p.Syscalls {
		for _, f := range []struct {
			name string
			v    string
		}{{"includes", r.Includes.MinKernel}, {"excludes", r.Excludes.MinKernel}} {
			if f.v == "" {
				continue
			}
			if _, err := parseKernel(f.v); err != nil {
				return nil, errdefs.InvalidArgument("seccomp profile: syscalls[%d].%s.minKernel: %w", i, f.name, err)
			}
		}
	}
	return &p, nil
}

// Resolve returns the runtime-spec seccomp configuration of p for target:
// the rules whose includes all hold and none of whose excludes does, in
// order, and the architectures of the archMap entry for target.Arch.
func (p *Profile) Resolve(target Target) (*specs.LinuxSeccomp, error) {
	kernel, err := targetKernel(target.Kernel)
	if err != nil {
		return nil, err
	}
	caps := make(map[string]bool, len(target.Caps))
	for _, c := range target.Caps {
		caps[normalizeCap(c)] = true
	}
	out := &specs.LinuxSeccomp{
		DefaultAction:    p.DefaultAction,
		Flags:            append([]specs.LinuxSeccompFlag(nil), p.Flags...),
		ListenerPath:     p.ListenerPath,
		ListenerMetadata: p.ListenerMetadata,
	}
	if p.DefaultErrnoRet != nil {
		e := *p.DefaultErrnoRet
		out.DefaultErrnoRet = &e
	}
	if out.Architectures, err = p.architectures(target.Arch); err != nil {
		return nil, err
	}
	for _, r := range p.Syscalls {
		if r.Includes.holds(caps, target.Arch, kernel, true) && !r.Excludes.holds(caps, target.Arch, kernel, false) {
			out.Syscalls = append(out.Syscalls, copyRule(r.LinuxSyscall))
		}
	}
	return out, nil
}

// copyRule copies r so that callers may change what Resolve returns.
func copyRule(r specs.LinuxSyscall) specs.LinuxSyscall {
	r.Names = append([]string(nil), r.Names...)
	r.Args = append([]specs.LinuxSeccompArg(nil), r.Args...)
	if r.ErrnoRet != nil {
		e := *r.ErrnoRet
		r.ErrnoRet = &e
	}
	return r
}

// holds evaluates f: as includes (all must hold; an empty filter holds) or
// as excludes (any holding is enough; an empty filter does not hold).
func (f Filter) holds(caps map[string]bool, arch string, kernel [2]int, all bool) bool {
	var results []bool
	for _, c := range f.Caps {
		results = append(results, caps[normalizeCap(c)])
	}
	if len(f.Arches) > 0 {
		results = append(results, archListed(f.Arches, arch))
	}
	if f.MinKernel != "" {
		min, _ := parseKernel(f.MinKernel) // checked by Parse
		results = append(results, kernel[0] > min[0] || kernel[0] == min[0] && kernel[1] >= min[1])
	}
	for _, r := range results {
		if all && !r {
			return false
		}
		if !all && r {
			return true
		}
	}
	return all
}

// archListed reports whether a rule's arch list names arch (a GOARCH).
// Docker's lists use "x86" for 386.
func archListed(list []string, arch string) bool {
	for _, a := range list {
		if a == arch || (a == "x86" && arch == "386") {
			return true
		}
	}
	return false
}

// goarchToSeccomp maps GOARCH values to seccomp architecture names.
var goarchToSeccomp = map[string]specs.Arch{
	"amd64":    specs.ArchX86_64,
	"386":      specs.ArchX86,
	"arm64":    specs.ArchAARCH64,
	"arm":      specs.ArchARM,
	"mips64":   specs.ArchMIPS64,
	"mips64le": specs.ArchMIPSEL64,
	"mips":     specs.ArchMIPS,
	"mipsle":   specs.ArchMIPSEL,
	"ppc64":    specs.ArchPPC64,
	"ppc64le":  specs.ArchPPC64LE,
	"s390x":    specs.ArchS390X,
	"riscv64":  specs.ArchRISCV64,
	"loong64":  specs.ArchLOONGARCH64,
}

func (p *Profile) architectures(goarch string) ([]specs.Arch, error) {
	if len(p.ArchMap) == 0 {
		return append([]specs.Arch(nil), p.Architectures...), nil
	}
	native, ok := goarchToSeccomp[goarch]
	if !ok {
		return nil, errdefs.InvalidArgument("seccomp profile: architecture %q has no seccomp name", goarch)
	}
	for _, m := range p.ArchMap {
		if m.Arch == native {
			return append([]specs.Arch{native}, m.SubArches...), nil
		}
	}
	// Not in the map: the filter covers the native ABI only.
	return []specs.Arch{native}, nil
}

// normalizeCap spells a capability name as CAP_XXX in upper case.
func normalizeCap(c string) string {
	c = strings.ToUpper(c)
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return c
}

// parseKernel reads "major.minor" (anything after the minor number, as in
// "6.1.0-18-amd64", is ignored).
func parseKernel(v string) ([2]int, error) {
	major, rest, ok := strings.Cut(v, ".")
	if !ok {
		return [2]int{}, fmt.Errorf("kernel version %q: want major.minor", v)
	}
	minor := rest
	if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = rest[:i]
	}
	maj, err1 := strconv.Atoi(major)
	min, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return [2]int{}, fmt.Errorf("kernel version %q: want major.minor", v)
	}
	return [2]int{maj, min}, nil
}

var running struct {
	once    sync.Once
	version [2]int
	err     error
}

// targetKernel is v parsed, or the running kernel's version when v is "".
func targetKernel(v string) ([2]int, error) {
	if v != "" {
		k, err := parseKernel(v)
		if err != nil {
			return k, errdefs.InvalidArgument("seccomp profile target: %w", err)
		}
		return k, nil
	}
	running.once.Do(func() {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			running.err = fmt.Errorf("uname: %w", err)
			return
		}
		running.version, running.err = parseKernel(unix.ByteSliceToString(u.Release[:]))
	})
	return running.version, running.err
}
