package security

import (
	"testing"

	"github.com/tincan/tincan/internal/testutil"
	"github.com/tincan/tincan/linux/apparmor"
	"github.com/tincan/tincan/linux/selinux"
)

// TestLSMRequestsWithoutTheLSM: a container that asks for an AppArmor
// profile or SELinux labels on a host without that LSM is refused with a
// clear error rather than run unconfined; "unconfined" asks for nothing.
func TestLSMRequestsWithoutTheLSM(t *testing.T) {
	r := testutil.NewRuntime(t)
	if !apparmor.Enabled() {
		b := newBundle(t, "cwd")
		b.Spec.Process.ApparmorProfile = "docker-default"
		b.Save(t)
		expectCreateRefused(t, r, b, `process.apparmorProfile "docker-default": AppArmor is not enabled on this host`)

		b.Spec.Process.ApparmorProfile = apparmor.Unconfined
		b.Save(t)
		if got := mustRun(t, r, b); got["cwd"] != "/" {
			t.Errorf("unconfined without AppArmor: %v", got)
		}
	}
	if !selinux.Enabled() {
		b := newBundle(t, "cwd")
		b.Spec.Process.SelinuxLabel = "system_u:system_r:container_t:s0:c1,c2"
		b.Save(t)
		expectCreateRefused(t, r, b, "process.selinuxLabel \"system_u:system_r:container_t:s0:c1,c2\": SELinux is not enabled on this host")

		b.Spec.Process.SelinuxLabel = ""
		b.Spec.Linux.MountLabel = "system_u:object_r:container_file_t:s0"
		b.Save(t)
		expectCreateRefused(t, r, b, "linux.mountLabel")
	}
	// Malformed requests are refused whatever the host has.
	b := newBundle(t, "cwd")
	b.Spec.Process.SelinuxLabel = "container_t"
	b.Save(t)
	expectCreateRefused(t, r, b, "process.selinuxLabel: selinux label \"container_t\": want user:role:type[:range]")
}
