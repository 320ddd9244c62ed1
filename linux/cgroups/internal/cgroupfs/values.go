package cgroupfs

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseUint parses one value of a cgroup file: a decimal number, "max"
// (v2 for no limit, returned as math.MaxUint64), or a negative number
// (v1's -1 for no limit, returned as 0).
func ParseUint(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return math.MaxUint64, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		if n, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && n < 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return v, nil
}

// ReadUint reads a file holding one number (or "max").
func ReadUint(path string) (uint64, error) {
	s, err := ReadFile(path)
	if err != nil {
		return 0, err
	}
	v, err := ParseUint(s)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return v, nil
}

// ReadKeyed reads a flat keyed file ("key value" per line: memory.stat,
// cpu.stat, memory.events) into a map. Lines whose value is not a number
// are skipped.
func ReadKeyed(path string) (map[string]uint64, error) {
	s, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]uint64)
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		if n, err := ParseUint(v); err == nil {
			out[k] = n
		}
	}
	return out, nil
}

// NestedEntry is one line of a nested keyed file ("8:0 rbytes=1 wbytes=2"
// in io.stat, "mlx4_0 hca_handle=2 hca_object=max" in rdma.max).
type NestedEntry struct {
	// Key is the first field ("8:0", "mlx4_0").
	Key string
	// Values are the key=value pairs that follow.
	Values map[string]uint64
}

// ParseNested parses a nested keyed file's content.
func ParseNested(content string) []NestedEntry {
	var out []NestedEntry
	for _, line := range strings.Split(content, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		e := NestedEntry{Key: fields[0], Values: make(map[string]uint64, len(fields)-1)}
		for _, f := range fields[1:] {
			if k, v, ok := strings.Cut(f, "="); ok {
				if n, err := ParseUint(v); err == nil {
					e.Values[k] = n
				}
			}
		}
		out = append(out, e)
	}
	return out
}

// ParseDevice parses a "major:minor" device key.
func ParseDevice(key string) (major, minor uint64, ok bool) {
	a, b, found := strings.Cut(key, ":")
	if !found {
		return 0, 0, false
	}
	major, err1 := strconv.ParseUint(a, 10, 64)
	minor, err2 := strconv.ParseUint(b, 10, 64)
	return major, minor, err1 == nil && err2 == nil
}
