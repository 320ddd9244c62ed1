package main

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// seccompFor returns the seccomp profile choice of --security-opt
// seccomp=...: the default profile for the final capability set, or a
// profile file.
func seccompFor(choice string) func(caps []string) (*specs.LinuxSeccomp, error) {
	return func(caps []string) (*specs.LinuxSeccomp, error) {
		// TODO(issue 5): the default profile lands with spec/seccompprofile.
		return nil, nil
	}
}
