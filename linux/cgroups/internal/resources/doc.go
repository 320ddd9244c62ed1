// Package resources is the runtime-spec side of cgroup limits that the v1
// and v2 managers share: checking linux.resources values before anything
// is written (errors name the config field), the conversions from v1 values
// to their v2 equivalents, device rules in a normalised form, and the
// hugepage sizes and CPU lists the kernel uses.
//
// It reads no cgroup files (only /sys/kernel/mm/hugepages, for the page
// sizes) and writes none: the managers in linux/cgroups/v1 and v2 apply
// the values.
package resources
