package runtime

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/tincan/tincan/linux/apparmor"
	"github.com/tincan/tincan/linux/caps"
	"github.com/tincan/tincan/linux/mount"
	"github.com/tincan/tincan/linux/seccomp"
	"github.com/tincan/tincan/linux/selinux"
)

// Features describes what this build of tincan-oci implements, as the
// runtime-spec features document. Only what works is listed: a feature is
// added here in the change that makes it work.
func Features() *features.Features {
	no := false
	yes := true
	apparmorEnabled, selinuxEnabled := apparmor.Enabled(), selinux.Enabled()
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks: []string{"prestart", "createRuntime", "createContainer", "startContainer",
			"poststart", "poststop"},
		MountOptions: mount.KnownOptions(),
		Linux: &features.Linux{
			Namespaces:   []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"},
			Capabilities: caps.Known(),
			Cgroup: &features.Cgroup{
				V1:          &yes,
				V2:          &yes,
				Systemd:     &no,
				SystemdUser: &no,
				Rdma:        &yes, // rdma.max, v1 and v2
			},
			Seccomp: &features.Seccomp{
				Enabled:        &yes,
				Actions:        seccomp.KnownActions(),
				Operators:      seccomp.KnownOperators(),
				Archs:          seccomp.KnownArchitectures(),
				KnownFlags:     seccomp.KnownFlags(),
				SupportedFlags: seccomp.SupportedFlags(),
			},
			// What the host has: the init applies a profile or label only
			// where the LSM is enabled, and create refuses them elsewhere.
			Apparmor: &features.Apparmor{Enabled: &apparmorEnabled},
			Selinux:  &features.Selinux{Enabled: &selinuxEnabled},
			IntelRdt: &features.IntelRdt{Enabled: &no},
			MountExtensions: &features.MountExtensions{
				IDMap: &features.IDMap{Enabled: &no},
			},
		},
		Annotations: map[string]string{
			"org.opencontainers.runtime-spec.features.implementation": "tincan-oci",
		},
	}
}
