// Package cgroups puts each container in its own cgroup and manages that
// cgroup's life: creation, process placement, listing, signalling, killing,
// freezing and removal, on every cgroup layout a host can have, behind one
// Manager interface. It applies and updates the runtime-spec's
// linux.resources (Validate, Set, Update), reads usage (Stats) and reports
// OOM events (NotifyOOM). It also resolves the OCI linux.cgroupsPath and
// reports where the hierarchies are mounted, for mounting cgroupfs in
// containers.
//
// It does not talk to systemd, does not decide which devices a container
// gets by default or when a container is killed or removed: that is
// runtime/'s policy.
//
// # Resources
//
// Each setting goes to its controller's files: v1 names (memory.limit_in_bytes,
// cpu.shares, blkio.throttle.*, devices.allow) on v1 hierarchies, v2 names
// (memory.max, cpu.weight, io.max) on cgroup2, with the v1 -> v2
// conversions runc uses. On a hybrid host a group of settings whose
// controller is bound to no v1 hierarchy goes to the cgroup2 side when that
// offers it. Device rules are written to the v1 devices cgroup, or compiled
// into an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) attached to the
// cgroup2 directory. Set checks everything before it writes; Update also
// journals what it overwrites and puts it back if the kernel refuses a
// value. The shared pieces live in internal/resources (validation,
// conversions, device rules) and internal/cgroupfs (files, the journal,
// the Stats types).
//
// # Host layouts
//
// The layout is read once per process, on first use, from statfs(2) of
// /sys/fs/cgroup and, unless that is cgroup2, from /proc/self/mountinfo:
//
//   - Unified: /sys/fs/cgroup is a cgroup2 mount (pure cgroup v2, the
//     default of current distributions, and what bench/v2view shows). One
//     directory per container; Create enables in each parent below the root
//     every controller the parent has, so the container's cgroup gets what
//     the host delegates. Kill uses cgroup.kill (Linux 5.14), freeze uses
//     cgroup.freeze (Linux 5.2); older kernels fall back to listing and
//     killing under the freezer, or without it.
//   - Hybrid: cgroup v1 controllers mounted one per directory (or comounted,
//     "cpu,cpuacct") under a tmpfs at /sys/fs/cgroup, named hierarchies
//     such as name=systemd, and a cgroup2 mount, usually
//     /sys/fs/cgroup/unified, that holds no or few controllers. The
//     container gets a directory in every one of them. Pids come from the
//     pids hierarchy (else freezer, else any); freeze uses the v1 freezer;
//     kill uses the cgroup2 side's cgroup.kill, then freeze-list-kill-thaw
//     rounds on the v1 side until it is empty.
//   - Legacy: the same without the cgroup2 mount.
//
// Hierarchies come from mountinfo, never from a fixed list, so comounted
// and named hierarchies and unusual mount points work. cgroup paths are
// relative to each hierarchy's mounted root, which inside a cgroup namespace
// is the namespace's root. A hierarchy mounted more than once is used at
// its mount under /sys/fs/cgroup.
package cgroups
