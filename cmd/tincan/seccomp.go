package main

import (
	"os"
	goruntime "runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/spec/seccompprofile"
)

// seccompFor returns the profile chosen with --security-opt seccomp=...
// ("" for docker's default profile, or a profile file in docker's format
// or as a plain runtime-spec linux.seccomp object), resolved for the
// container's capability set as docker does ("unconfined" never gets
// here).
func seccompFor(choice string) func(caps []string) (*specs.LinuxSeccomp, error) {
	return func(caps []string) (*specs.LinuxSeccomp, error) {
		profile := seccompprofile.DefaultProfile()
		if choice != "" {
			data, err := os.ReadFile(choice)
			if err != nil {
				return nil, errdefs.InvalidArgument("--security-opt seccomp=%s: %v", choice, err)
			}
			if profile, err = seccompprofile.Parse(data); err != nil {
				return nil, errdefs.InvalidArgument("--security-opt seccomp=%s: %v", choice, err)
			}
		}
		s, err := profile.Resolve(seccompprofile.Target{Caps: caps, Arch: goruntime.GOARCH})
		if err != nil {
			return nil, err
		}
		if s == nil {
			return nil, errdefs.Unsupported("no seccomp profile for architecture %s", goruntime.GOARCH)
		}
		return s, nil
	}
}
