// Package landlock confines a container process with Landlock, the Linux
// security module an unprivileged process can use to restrict itself: which
// files it may read, write or execute, which TCP ports it may bind or
// connect to, and whether it may reach abstract unix sockets or signal
// processes outside its own sandbox.
//
// The rules come from the annotation run.tincan.landlock (see Annotation
// and docs/SECURITY.md for the format). This package parses and checks
// them (in the parent, at create), negotiates them with the kernel's
// Landlock ABI (best effort by default: what the kernel cannot enforce is
// dropped with a warning), builds the ruleset and enforces it on the
// calling thread. It does not decide when: the init sequence builds the
// ruleset while the container's files are reachable and enforces it last
// before loading seccomp and executing the process.
package landlock

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/tincan/tincan/errdefs"
)

// Annotation is the config.json annotation holding the rules as JSON:
//
//	{
//	  "fs": [
//	    {"allow": ["read", "execute"], "paths": ["/bin", "/lib", "/usr"]},
//	    {"allow": ["read", "write"], "paths": ["/tmp"]}
//	  ],
//	  "net": {"bindTCP": [8080], "connectTCP": [53, 443]},
//	  "scope": ["abstract-unix-socket", "signal"],
//	  "compatibility": "best-effort"
//	}
//
// Each part that is present is restricted: with "fs" every filesystem
// access Landlock knows is denied except what the entries allow beneath
// their paths; with "net" binding and connecting TCP sockets is denied
// except to the listed ports; "scope" cuts the container off from abstract
// unix sockets and signals outside it. Access names are Landlock's
// (LANDLOCK_ACCESS_FS_READ_FILE is "read-file") plus "read" (read-file,
// read-dir) and "write" (everything that changes files or directories).
// "compatibility" is "best-effort" (default: rights the kernel lacks are
// not enforced, with a warning) or "hard-requirement" (create fails).
const Annotation = "run.tincan.landlock"

// Config is the annotation's JSON.
type Config struct {
	// FS lists what may be accessed beneath which paths; nil leaves the
	// filesystem unrestricted, an empty list denies everything.
	FS []FSRule `json:"fs"`
	// Net lists the TCP ports that may be used; nil leaves the network
	// unrestricted.
	Net *NetRules `json:"net"`
	// Scope names the IPC scopes to restrict: "abstract-unix-socket",
	// "signal".
	Scope []string `json:"scope"`
	// Compatibility is "best-effort" (default) or "hard-requirement".
	Compatibility string `json:"compatibility"`
}

// FSRule allows accesses beneath paths (inside the container).
type FSRule struct {
	Allow []string `json:"allow"`
	Paths []string `json:"paths"`
}

// NetRules are the TCP ports that may be bound and connected to.
type NetRules struct {
	BindTCP    []uint16 `json:"bindTCP"`
	ConnectTCP []uint16 `json:"connectTCP"`
}

// Filesystem access rights, as the kernel numbers them, with the ABI
// version that introduced each.
var fsRights = map[string]struct {
	bit uint64
	abi int
}{
	"execute":     {1 << 0, 1},
	"write-file":  {1 << 1, 1},
	"read-file":   {1 << 2, 1},
	"read-dir":    {1 << 3, 1},
	"remove-dir":  {1 << 4, 1},
	"remove-file": {1 << 5, 1},
	"make-char":   {1 << 6, 1},
	"make-dir":    {1 << 7, 1},
	"make-reg":    {1 << 8, 1},
	"make-sock":   {1 << 9, 1},
	"make-fifo":   {1 << 10, 1},
	"make-block":  {1 << 11, 1},
	"make-sym":    {1 << 12, 1},
	"refer":       {1 << 13, 2},
	"truncate":    {1 << 14, 3},
	"ioctl-dev":   {1 << 15, 5},
}

// fsGroups are the shorthand names.
var fsGroups = map[string][]string{
	"read": {"read-file", "read-dir"},
	"write": {"write-file", "truncate", "remove-dir", "remove-file", "make-char", "make-dir",
		"make-reg", "make-sock", "make-fifo", "make-block", "make-sym", "refer"},
}

// fileRights are the rights that mean something for a file that is not a
// directory; the kernel refuses the others in a rule on such a file.
const fileRights = 1<<0 | 1<<1 | 1<<2 | 1<<14 | 1<<15

const (
	netBindTCP    = 1 << 0
	netConnectTCP = 1 << 1
	netABI        = 4
)

var scopes = map[string]uint64{
	"abstract-unix-socket": 1 << 0,
	"signal":               1 << 1,
}

const scopeABI = 6

const (
	bestEffort      = "best-effort"
	hardRequirement = "hard-requirement"
)

// FromAnnotations parses the Landlock annotation, if any (nil when absent).
func FromAnnotations(annotations map[string]string) (*Config, error) {
	v, ok := annotations[Annotation]
	if !ok {
		return nil, nil
	}
	return Parse(v)
}

// Parse reads and checks the annotation's value. It needs no kernel
// support; errors are of class errdefs.ErrInvalidArgument and name the
// annotation and the part that is wrong.
func Parse(value string) (*Config, error) {
	var c Config
	dec := json.NewDecoder(strings.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, errdefs.InvalidArgument("annotation %s: %w", Annotation, err)
	}
	if dec.More() {
		return nil, errdefs.InvalidArgument("annotation %s: text after the JSON object", Annotation)
	}
	if err := c.check(); err != nil {
		return nil, errdefs.InvalidArgument("annotation %s: %w", Annotation, err)
	}
	return &c, nil
}

func (c *Config) check() error {
	if c.FS == nil && c.Net == nil && len(c.Scope) == 0 {
		return fmt.Errorf(`restricts nothing: give "fs", "net" or "scope"`)
	}
	switch c.Compatibility {
	case "", bestEffort, hardRequirement:
	default:
		return fmt.Errorf("compatibility: %q is not %q or %q", c.Compatibility, bestEffort, hardRequirement)
	}
	for i, r := range c.FS {
		if len(r.Allow) == 0 {
			return fmt.Errorf("fs[%d].allow: empty", i)
		}
		if _, err := accessMask(r.Allow); err != nil {
			return fmt.Errorf("fs[%d].allow: %w", i, err)
		}
		if len(r.Paths) == 0 {
			return fmt.Errorf("fs[%d].paths: empty", i)
		}
		for j, p := range r.Paths {
			if !filepath.IsAbs(p) {
				return fmt.Errorf("fs[%d].paths[%d]: %q is not an absolute path", i, j, p)
			}
		}
	}
	if c.Net != nil {
		for _, ports := range [][]uint16{c.Net.BindTCP, c.Net.ConnectTCP} {
			for _, p := range ports {
				if p == 0 {
					return fmt.Errorf("net: port 0")
				}
			}
		}
	}
	for i, s := range c.Scope {
		if _, ok := scopes[s]; !ok {
			return fmt.Errorf("scope[%d]: unknown scope %q (known: %s)", i, s, strings.Join(sortedKeys(scopes), ", "))
		}
	}
	return nil
}

// accessMask turns access names into the kernel's bits.
func accessMask(names []string) (uint64, error) {
	var mask uint64
	for _, n := range names {
		if group, ok := fsGroups[n]; ok {
			for _, g := range group {
				mask |= fsRights[g].bit
			}
			continue
		}
		r, ok := fsRights[n]
		if !ok {
			return 0, fmt.Errorf("unknown access %q (known: read, write, %s)", n, strings.Join(sortedKeys(fsRights), ", "))
		}
		mask |= r.bit
	}
	return mask, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
