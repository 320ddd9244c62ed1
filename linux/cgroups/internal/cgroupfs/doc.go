// Package cgroupfs holds what the cgroup v1 and v2 managers share: reading
// and writing cgroup interface files with errors that name the file, listing
// and signalling the processes of a cgroup tree, removing a cgroup tree
// deepest first, the bounded retry loop they all use, the freezer states, and
// the cgroup hierarchies found in /proc/self/mountinfo.
//
// It owns no policy: which hierarchy to use, when to freeze or kill, and the
// mode of the host are decided by linux/cgroups and its v1 and v2 packages.
package cgroupfs
