package cgroupfs

import (
	"reflect"
	"strings"
	"testing"
)

// hybridMountinfo is this project's development host: v1 controllers one per
// directory, cpu and cpuacct apart, name=systemd, cgroup2 at unified.
const hybridMountinfo = `22 1 0:21 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

// legacyMountinfo is a systemd-era v1 host: comounted controllers, generic
// options among the super options, and a second mount of the memory
// hierarchy (a bind mount into a container bundle) that must not win.
const legacyMountinfo = `25 18 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
90 25 0:40 /tincan/x /run/bundle/rootfs/sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,release_agent=/lib/systemd/systemd-cgroups-agent,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 / /sys/fs/cgroup/cpuset rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,cpuset,clone_children
32 25 0:40 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:16 - cgroup cgroup rw,memory
`

const unifiedMountinfo = `26 22 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`

func TestParseHierarchies(t *testing.T) {
	tests := []struct {
		name, mountinfo string
		want            []Hierarchy
	}{
		{"hybrid", hybridMountinfo, []Hierarchy{
			{MountPoint: "/sys/fs/cgroup/cpu", Controllers: []string{"cpu"}},
			{MountPoint: "/sys/fs/cgroup/cpuacct", Controllers: []string{"cpuacct"}},
			{MountPoint: "/sys/fs/cgroup/cpuset", Controllers: []string{"cpuset"}},
			{MountPoint: "/sys/fs/cgroup/memory", Controllers: []string{"memory"}},
			{MountPoint: "/sys/fs/cgroup/pids", Controllers: []string{"pids"}},
			{MountPoint: "/sys/fs/cgroup/systemd", Controllers: []string{"name=systemd"}},
			{MountPoint: "/sys/fs/cgroup/unified", Unified: true},
		}},
		{"legacy comounted, duplicate mount", legacyMountinfo, []Hierarchy{
			{MountPoint: "/sys/fs/cgroup/memory", Controllers: []string{"memory"}},
			{MountPoint: "/sys/fs/cgroup/systemd", Controllers: []string{"name=systemd"}},
			{MountPoint: "/sys/fs/cgroup/cpu,cpuacct", Controllers: []string{"cpu", "cpuacct"}},
			{MountPoint: "/sys/fs/cgroup/net_cls,net_prio", Controllers: []string{"net_cls", "net_prio"}},
			{MountPoint: "/sys/fs/cgroup/cpuset", Controllers: []string{"cpuset"}},
		}},
		{"unified", unifiedMountinfo, []Hierarchy{
			{MountPoint: "/sys/fs/cgroup", Unified: true},
		}},
		{"none", "22 1 0:21 / /sys rw - sysfs sysfs rw\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHierarchies(strings.NewReader(tt.mountinfo))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestHierarchyName(t *testing.T) {
	for _, tt := range []struct {
		h    Hierarchy
		want string
	}{
		{Hierarchy{Controllers: []string{"cpu", "cpuacct"}}, "cpu,cpuacct"},
		{Hierarchy{Controllers: []string{"name=systemd"}}, "name=systemd"},
		{Hierarchy{Unified: true}, ""},
	} {
		if got := tt.h.Name(); got != tt.want {
			t.Errorf("Name() of %+v = %q, want %q", tt.h, got, tt.want)
		}
	}
}

func TestParseHierarchiesRejectsGarbage(t *testing.T) {
	if _, err := ParseHierarchies(strings.NewReader("not a mountinfo line\n")); err == nil {
		t.Fatal("want an error for a malformed mountinfo line")
	}
}
