package spec

import (
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// sysctlNamespace returns the namespace that isolates the sysctl key (in
// dotted or slashed form); ok is false for a sysctl that is not namespaced,
// whose setting would change the host. The list is the one runc accepts.
func sysctlNamespace(key string) (ns specs.LinuxNamespaceType, ok bool) {
	dotted := strings.ReplaceAll(key, "/", ".")
	switch dotted {
	case "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced":
		return specs.IPCNamespace, true
	case "kernel.hostname", "kernel.domainname":
		return specs.UTSNamespace, true
	}
	switch {
	case strings.HasPrefix(dotted, "fs.mqueue."):
		return specs.IPCNamespace, true
	case strings.HasPrefix(dotted, "net."):
		return specs.NetworkNamespace, true
	}
	return "", false
}

// checkSysctlKey rejects keys that do not name a file under /proc/sys.
// Components are separated by "/" when the key has one (so that an
// interface name such as eth0.100 can appear) and by "." otherwise.
func checkSysctlKey(field, key string) error {
	if key == "" {
		return invalidf("linux.sysctl", "empty sysctl name")
	}
	if strings.IndexByte(key, 0) >= 0 {
		return invalidf(field, "contains a NUL byte")
	}
	sep := "."
	if strings.Contains(key, "/") {
		sep = "/"
	}
	for _, component := range strings.Split(key, sep) {
		if component == "" || component == "." || component == ".." {
			return invalidf(field, "malformed sysctl name")
		}
	}
	return nil
}

// checkSysctls allows only namespaced sysctls, each with its namespace in
// linux.namespaces (new or joined by path: whether a joined one is the
// host's is for the kernel to tell).
func (v *validator) checkSysctls() error {
	sysctls := v.spec.Linux.Sysctl
	// Map order is random; sort so the same config always reports the same
	// first problem.
	keys := make([]string, 0, len(sysctls))
	for key := range sysctls {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		field := entry("linux.sysctl", key)
		if err := checkSysctlKey(field, key); err != nil {
			return err
		}
		if strings.IndexByte(sysctls[key], 0) >= 0 {
			return invalidf(field, "value contains a NUL byte")
		}
		ns, ok := sysctlNamespace(key)
		if !ok {
			return invalidf(field, "sysctl is not namespaced")
		}
		if _, ok := v.namespaces.lookup(ns); !ok {
			return invalidf(field, "requires a %s namespace, and linux.namespaces has none", ns)
		}
	}
	return nil
}
