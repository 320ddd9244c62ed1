package initproc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/caps"
	"github.com/tincan/tincan/linux/rlimit"
	"github.com/tincan/tincan/linux/rootfs"
	"github.com/tincan/tincan/linux/sched"
)

func (in *initState) prepareEnv() error {
	p := in.process()
	if p == nil {
		return nil
	}
	in.env = append([]string(nil), p.Env...)
	if lookupEnv(in.env, "HOME") == "" {
		// As runc does: a process without HOME gets the user's home from
		// the container's /etc/passwd, or "/".
		in.env = append(in.env, "HOME="+homeOf(int(p.User.UID)))
	}
	if in.b.ListenFDs > 0 {
		in.env = append(in.env,
			"LISTEN_FDS="+strconv.Itoa(in.b.ListenFDs),
			"LISTEN_PID="+strconv.Itoa(os.Getpid()))
	}
	if p.Capabilities != nil {
		set, _, err := caps.FromSpec(p.Capabilities)
		if err != nil {
			return err
		}
		in.caps = set
	}
	return nil
}

func lookupEnv(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

// homeOf reads the home directory of uid from the container's /etc/passwd.
func homeOf(uid int) string {
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 6 && fields[2] == strconv.Itoa(uid) && fields[5] != "" {
			return fields[5]
		}
	}
	return "/"
}

func (in *initState) setRlimits() error {
	if p := in.process(); p != nil {
		return rlimit.Apply(p.Rlimits)
	}
	return nil
}

// manageCaps reports whether the init sets the capability sets itself:
// when the config lists them, or when a non-root process must keep
// CAP_SYS_ADMIN through the user switch to load its seccomp filter (it ends
// with no capabilities, as a plain setuid would leave it). Without either,
// the process keeps what its uid gives it.
func (in *initState) manageCaps() bool {
	p := in.process()
	if p == nil {
		return false
	}
	return p.Capabilities != nil || (in.needsAdminForSeccomp() && p.User.UID != 0)
}

func (in *initState) dropBounding() error {
	if !in.manageCaps() {
		return nil
	}
	// Keep the permitted set across the switch to a non-root uid; the
	// exact sets are applied right after it.
	if err := caps.KeepCaps(); err != nil {
		return err
	}
	if in.process().Capabilities == nil {
		return nil
	}
	return caps.ApplyBounding(in.caps)
}

func (in *initState) switchUser() error {
	p := in.process()
	if p == nil {
		return nil
	}
	u := p.User
	if len(u.AdditionalGids) > 0 || setgroupsAllowed() {
		gids := make([]int, len(u.AdditionalGids))
		for i, g := range u.AdditionalGids {
			gids[i] = int(g)
		}
		// syscall (not x/sys/unix) so that every thread switches, not only
		// this one: the Go runtime's other threads must not stay root.
		if err := syscall.Setgroups(gids); err != nil {
			return fmt.Errorf("set additional groups %v: %w", u.AdditionalGids, err)
		}
	}
	in.debugf("switch to uid %d, gid %d, additional groups %v", u.UID, u.GID, u.AdditionalGids)
	if err := syscall.Setresgid(int(u.GID), int(u.GID), int(u.GID)); err != nil {
		return fmt.Errorf("set gid %d: %w", u.GID, err)
	}
	if err := syscall.Setresuid(int(u.UID), int(u.UID), int(u.UID)); err != nil {
		return fmt.Errorf("set uid %d: %w", u.UID, err)
	}
	if u.Umask != nil {
		unix.Umask(int(*u.Umask))
	}
	return nil
}

// setgroupsAllowed reports whether setgroups(2) may be called: in a user
// namespace created without privilege, /proc/self/setgroups says "deny".
func setgroupsAllowed() bool {
	data, err := os.ReadFile("/proc/self/setgroups")
	if err != nil {
		return true
	}
	return strings.TrimSpace(string(data)) != "deny"
}

func (in *initState) applyCaps() error {
	if !in.manageCaps() {
		return nil
	}
	in.debugf("capabilities: bounding %v, effective %v, permitted %v, ambient %v",
		in.caps.Bounding, in.caps.Effective, in.caps.Permitted, in.caps.Ambient)
	return caps.ApplyProcess(in.capsBeforeSeccomp())
}

func (in *initState) setNoNewPrivs() error {
	p := in.process()
	if p == nil || !p.NoNewPrivileges {
		return nil
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}

func (in *initState) enterCwd() error {
	p := in.process()
	if p == nil {
		return nil
	}
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	// Inside the root, without magic links, and checked with getcwd: a
	// leaked host fd must not become the cwd (CVE-2024-21626).
	if err := rootfs.EnterDir(cwd); err != nil {
		return fmt.Errorf("chdir to cwd %q set in config.json: %w", cwd, err)
	}
	return nil
}

func (in *initState) resolveProgram() error {
	p := in.process()
	if p == nil {
		return nil
	}
	path, err := lookPath(p.Args[0], lookupEnv(in.env, "PATH"))
	if err != nil {
		return err
	}
	in.program = path
	in.debugf("at start: execve %s %q", path, p.Args)
	return nil
}

// lookPath finds name as execve would be asked to run it: names with a
// slash as they are, others in the container's PATH.
func lookPath(name, pathEnv string) (string, error) {
	if strings.Contains(name, "/") {
		if err := checkExecutable(name); err != nil {
			return "", fmt.Errorf("exec: %q: %w", name, err)
		}
		return name, nil
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if checkExecutable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", name)
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() {
		return errors.New("is a directory")
	}
	// AT_EACCESS: with the effective ids and capabilities, as execve
	// checks (plain access(2) would use the real ids and no capabilities).
	if err := unix.Faccessat(unix.AT_FDCWD, p, unix.X_OK, unix.AT_EACCESS); err != nil {
		return err
	}
	return nil
}

func (in *initState) signalCreated() error {
	if err := Send(in.sock, MsgCreated, nil); err != nil {
		return err
	}
	in.created = true
	return nil
}

// waitForStart blocks opening the exec fifo for writing, which completes
// when "tincan-oci start" opens it for reading. The fifo stays open (close
// on exec): start reads an error message from it, or EOF once the program
// has been executed.
func (in *initState) waitForStart() error {
	if in.b.FifoFD < 0 {
		return nil
	}
	fd, err := unix.Openat(int(in.procFD.Fd()), strconv.Itoa(in.b.FifoFD), unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	in.procFD.Close()
	unix.Close(in.b.FifoFD)
	in.fifo = os.NewFile(uintptr(fd), "exec.fifo")
	return nil
}

// closeExtraFDs marks every fd beyond stdio and the preserved ones
// close-on-exec, so nothing of the runtime's leaks into the container.
func (in *initState) closeExtraFDs() error {
	first := uint(3 + in.b.PreserveFDs + in.b.ListenFDs)
	if err := unix.CloseRange(first, ^uint(0), unix.CLOSE_RANGE_CLOEXEC); err != nil {
		return fmt.Errorf("mark fds close-on-exec: %w", err)
	}
	return nil
}

func (in *initState) execProcess() error {
	p := in.process()
	if p == nil {
		// A container without a process stops as soon as it is started.
		os.Exit(0)
	}
	err := unix.Exec(in.program, p.Args, in.env)
	return fmt.Errorf("exec %s: %w", in.program, err)
}

// setScheduling applies process.scheduler and process.ioPriority to this
// thread, the one that executes the program (so they carry over execve
// to it and to everything it starts). As root, before the user switch: a
// real-time policy or the real-time I/O class needs CAP_SYS_NICE or
// CAP_SYS_ADMIN, which the container's process may not keep.
func (in *initState) setScheduling() error {
	p := in.process()
	if p == nil {
		return nil
	}
	if p.Scheduler != nil {
		if err := sched.SetScheduler(0, p.Scheduler); err != nil {
			return err
		}
	}
	if p.IOPriority != nil {
		if err := sched.SetIOPriority(0, p.IOPriority); err != nil {
			return err
		}
	}
	return nil
}

// setFinalAffinity applies process.execCPUAffinity.final (exec only): the
// CPUs the program runs on, now that the process is in the container's
// cgroup (whose cpuset may have reset what the parent set first).
func (in *initState) setFinalAffinity() error {
	if p := in.process(); p != nil && p.ExecCPUAffinity != nil {
		return sched.SetAffinity(0, "process.execCPUAffinity.final", p.ExecCPUAffinity.Final)
	}
	return nil
}
