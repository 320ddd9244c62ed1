package engine

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	osuser "os/user"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/cgroups"
)

// Check is one host capability tincan relies on.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Detail says what was found, or why it is missing.
	Detail string `json:"detail"`
	// Required: tincan cannot run containers without it (for the current
	// user); the others only limit features.
	Required bool `json:"required"`
}

// HostChecks reports what this host supports.
func HostChecks() []Check {
	root := os.Geteuid() == 0
	checks := []Check{
		cgroupCheck(),
		userNamespaceCheck(!root),
		filesystemCheck("overlay", "overlayfs (copy-on-write --rootfs)", true),
		seccompCheck(),
		lsmCheck("landlock", "Landlock (--security-opt landlock=...)"),
		lsmCheck("apparmor", "AppArmor"),
		lsmCheck("selinux", "SELinux"),
		syscallCheck("openat2 (in-root path resolution)", func() error {
			fd, err := unix.Openat2(unix.AT_FDCWD, "/", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
			if err == nil {
				unix.Close(fd)
			}
			return err
		}),
		syscallCheck("pidfd (race-free signals)", func() error {
			fd, err := unix.PidfdOpen(os.Getpid(), 0)
			if err == nil {
				unix.Close(fd)
			}
			return err
		}),
	}
	if !root {
		checks = append(checks, rootlessChecks()...)
	}
	return checks
}

func cgroupCheck() Check {
	c := Check{Name: "cgroups", Required: false}
	mode := cgroups.DetectMode()
	points, err := cgroups.MountPoints()
	if err != nil || mode == cgroups.Unavailable {
		c.Detail = "no cgroup filesystem mounted: resource limits are not available"
		return c
	}
	var names []string
	for k := range points {
		if k == "" {
			names = append(names, "cgroup2")
		} else {
			names = append(names, k)
		}
	}
	c.OK = true
	c.Detail = fmt.Sprintf("%s (%s)", mode, strings.Join(sortedStrings(names), ", "))
	return c
}

func userNamespaceCheck(required bool) Check {
	c := Check{Name: "user namespaces", Required: required}
	data, err := os.ReadFile("/proc/sys/user/max_user_namespaces")
	if err != nil || strings.TrimSpace(string(data)) == "0" {
		c.Detail = "disabled (/proc/sys/user/max_user_namespaces is 0): rootless containers cannot run"
		return c
	}
	if b, err := os.ReadFile("/proc/sys/kernel/unprivileged_userns_clone"); err == nil && strings.TrimSpace(string(b)) == "0" {
		c.Detail = "only for root (kernel.unprivileged_userns_clone = 0)"
		c.OK = !required
		return c
	}
	c.OK, c.Detail = true, "available, also to unprivileged users"
	return c
}

func filesystemCheck(fs, what string, required bool) Check {
	c := Check{Name: what, Required: required}
	f, err := os.Open("/proc/filesystems")
	if err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if strings.HasSuffix(sc.Text(), "\t"+fs) {
				c.OK, c.Detail = true, fs+" is registered"
				return c
			}
		}
	}
	// It may be a module not loaded yet; mounting loads it.
	c.Detail = fs + " is not in /proc/filesystems (module not loaded?); use --rootfs-rw"
	return c
}

func seccompCheck() Check {
	c := Check{Name: "seccomp", Required: false}
	if err := unix.Prctl(unix.PR_GET_SECCOMP, 0, 0, 0, 0); err != nil {
		c.Detail = "the kernel has no seccomp: containers would run without a syscall filter"
		return c
	}
	c.OK, c.Detail = true, "filters available (docker's default profile is applied)"
	return c
}

func lsmCheck(name, what string) Check {
	c := Check{Name: what}
	data, err := os.ReadFile("/sys/kernel/security/lsm")
	if err != nil {
		c.Detail = "cannot read /sys/kernel/security/lsm"
		return c
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), ",") {
		if l == name {
			c.OK, c.Detail = true, "active"
			return c
		}
	}
	c.Detail = "not active on this kernel (active: " + strings.TrimSpace(string(data)) + ")"
	return c
}

func syscallCheck(what string, probe func() error) Check {
	c := Check{Name: what}
	if err := probe(); err != nil {
		c.Detail = "unavailable: " + err.Error()
		return c
	}
	c.OK, c.Detail = true, "available"
	return c
}

// rootlessChecks are the prerequisites of running as a normal user.
func rootlessChecks() []Check {
	var out []Check
	for _, helper := range []string{"newuidmap", "newgidmap"} {
		c := Check{Name: helper + " (rootless id ranges)"}
		if p, err := exec.LookPath(helper); err == nil {
			c.OK, c.Detail = true, p
		} else {
			c.Detail = "not installed (apt install uidmap): only your own uid can be mapped"
		}
		out = append(out, c)
	}
	u, err := osuser.Current()
	c := Check{Name: "/etc/subuid entry"}
	if err == nil {
		if data, err := os.ReadFile("/etc/subuid"); err == nil && strings.Contains(string(data), u.Username+":") {
			c.OK, c.Detail = true, "present for "+u.Username
		} else {
			c.Detail = "none for " + u.Username + ": only your own uid can be mapped"
		}
	}
	return append(out, c)
}

func sortedStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
