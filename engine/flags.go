package engine

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tincan/tincan/errdefs"
)

// ParseBytes parses a size as docker's flags take it: a number with an
// optional b, k, m or g suffix (binary multiples), e.g. "512m".
func ParseBytes(flag, s string) (int64, error) {
	orig := s
	s = strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "kb"), strings.HasSuffix(s, "k"):
		mult, s = 1<<10, strings.TrimRight(s, "kb")
	case strings.HasSuffix(s, "mb"), strings.HasSuffix(s, "m"):
		mult, s = 1<<20, strings.TrimRight(s, "mb")
	case strings.HasSuffix(s, "gb"), strings.HasSuffix(s, "g"):
		mult, s = 1<<30, strings.TrimRight(s, "gb")
	case strings.HasSuffix(s, "b"):
		s = strings.TrimSuffix(s, "b")
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, errdefs.InvalidArgument("%s: invalid size %q (use a number with b, k, m or g)", flag, orig)
	}
	return int64(n * float64(mult)), nil
}

// ParseEnv resolves -e values: KEY=VALUE as is, KEY alone takes the
// caller's value; when the caller has none it stays a bare KEY, which
// removes KEY from the environment (the image's too), as docker does.
func ParseEnv(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		key, _, hasValue := strings.Cut(v, "=")
		if key == "" {
			return nil, errdefs.InvalidArgument("--env %q: empty variable name", v)
		}
		if hasValue {
			out = append(out, v)
		} else if val, ok := os.LookupEnv(key); ok {
			out = append(out, key+"="+val)
		} else {
			out = append(out, key)
		}
	}
	return out, nil
}

// ReadEnvFile reads an --env-file: one KEY=VALUE (or KEY) per line, blank
// lines and # comments ignored.
func ReadEnvFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errdefs.InvalidArgument("--env-file: %v", err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		lines = append(lines, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--env-file %s: %w", path, err)
	}
	return ParseEnv(lines)
}

// ParseVolume parses -v host:ctr[:ro|rw], name:ctr[:opts] or /ctr (an
// anonymous volume, named by the caller-supplied newName).
func ParseVolume(v string, newName func() string) (MountSpec, error) {
	parts := strings.Split(v, ":")
	var m MountSpec
	switch len(parts) {
	case 1:
		m = MountSpec{Source: newName(), Volume: true, Anonymous: true, Destination: parts[0]}
	case 2, 3:
		m = MountSpec{Source: parts[0], Destination: parts[1]}
		if len(parts) == 3 {
			for _, o := range strings.Split(parts[2], ",") {
				switch o {
				case "ro":
					m.ReadOnly = true
				case "rw":
				default:
					return m, errdefs.InvalidArgument("--volume %s: unknown option %q (ro or rw)", v, o)
				}
			}
		}
		if strings.ContainsRune(m.Source, '/') || strings.HasPrefix(m.Source, ".") {
			abs, err := filepath.Abs(m.Source)
			if err != nil {
				return m, errdefs.InvalidArgument("--volume %s: %v", v, err)
			}
			if _, err := os.Stat(abs); err != nil {
				return m, errdefs.InvalidArgument("--volume %s: source: %v", v, err)
			}
			m.Source = abs
		} else {
			m.Volume = true
		}
	default:
		return m, errdefs.InvalidArgument("--volume %s: want [SOURCE:]DEST[:ro|rw]", v)
	}
	if !filepath.IsAbs(m.Destination) {
		return m, errdefs.InvalidArgument("--volume %s: the container path must be absolute", v)
	}
	return m, nil
}

// ParseUlimit parses --ulimit name=soft[:hard].
func ParseUlimit(v string) (Ulimit, error) {
	name, limits, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return Ulimit{}, errdefs.InvalidArgument("--ulimit %s: want name=soft[:hard]", v)
	}
	softS, hardS, hasHard := strings.Cut(limits, ":")
	soft, err := strconv.ParseUint(softS, 10, 64)
	if err != nil {
		return Ulimit{}, errdefs.InvalidArgument("--ulimit %s: bad soft limit", v)
	}
	hard := soft
	if hasHard {
		if hard, err = strconv.ParseUint(hardS, 10, 64); err != nil {
			return Ulimit{}, errdefs.InvalidArgument("--ulimit %s: bad hard limit", v)
		}
	}
	if soft > hard {
		return Ulimit{}, errdefs.InvalidArgument("--ulimit %s: soft limit above hard limit", v)
	}
	return Ulimit{Name: name, Soft: soft, Hard: hard}, nil
}
