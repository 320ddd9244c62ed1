package runtime

import (
	"bufio"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/linux/cgroups"
)

// execPlacement returns how to place an exec'd process, given the
// container's state and the --cgroup values ("[controller[,controller]:]
// sub-path"): in the container's cgroup, or in a sub-cgroup of it (which
// must exist), for every hierarchy or, on cgroup v1, per controller. nil
// when the container has no cgroup (rootless without one).
func execPlacement(st *State, subs []string) (func(pid int) error, error) {
	if st.CgroupPath == "" {
		if len(subs) > 0 {
			return nil, errdefs.InvalidArgument("--cgroup: the container has no cgroup")
		}
		return nil, nil
	}
	all := ""
	perController := map[string]string{}
	for _, s := range subs {
		controllers, sub, hasControllers := strings.Cut(s, ":")
		if !hasControllers || strings.Contains(controllers, "/") {
			controllers, sub = "", s
		}
		sub = path.Clean("/" + sub)
		if controllers == "" {
			all = sub
			continue
		}
		if cgroups.DetectMode() == cgroups.Unified {
			return nil, errdefs.InvalidArgument("--cgroup %q: naming controllers is for cgroup v1 only", s)
		}
		for _, c := range strings.Split(controllers, ",") {
			perController[c] = sub
		}
	}
	base := st.CgroupPath
	target := subCgroup(base, all)
	cg, err := cgroups.Load(target)
	if err != nil {
		if errdefs.IsNotFound(err) && target != base {
			return nil, errdefs.NotFound("--cgroup: sub-cgroup %s of the container does not exist", all)
		}
		return nil, err
	}
	// Without --cgroup, a process that cannot join the top cgroup of a
	// cgroup v2 container (it has children with controllers enabled: "no
	// internal processes") joins the cgroup of the container's init.
	fallback := len(subs) == 0 && cgroups.DetectMode() == cgroups.Unified
	return func(pid int) error {
		if err := cg.Apply(pid); err != nil {
			if !fallback {
				return err
			}
			initCg, ierr := unifiedCgroupOf(st.Pid)
			if ierr != nil || initCg == base {
				return err
			}
			m, ierr := cgroups.Load(initCg)
			if ierr != nil {
				return err
			}
			if ierr := m.Apply(pid); ierr != nil {
				return err
			}
		}
		for c, sub := range perController {
			m, err := cgroups.New(subCgroup(base, sub))
			if err != nil {
				return err
			}
			dir := m.Path(c)
			if dir == "" {
				return errdefs.InvalidArgument("--cgroup %s:%s: no cgroup hierarchy has controller %q", c, sub, c)
			}
			procs := filepath.Join(dir, "cgroup.procs")
			if err := os.WriteFile(procs, []byte(strconv.Itoa(pid)), 0); err != nil {
				return fmt.Errorf("--cgroup %s: join %s: %w", c, dir, err)
			}
		}
		return nil
	}, nil
}

// subCgroup is sub ("/a/b", cleaned; "" or "/" for none) below base.
func subCgroup(base, sub string) string {
	if sub == "" || sub == "/" {
		return base
	}
	return base + sub
}

// unifiedCgroupOf reads the cgroup v2 path of process pid ("0::/path").
func unifiedCgroupOf(pid int) (string, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/cgroup")
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, nil
		}
	}
	return "", fmt.Errorf("process %d has no cgroup v2 path", pid)
}
