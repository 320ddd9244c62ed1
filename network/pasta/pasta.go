// Package pasta gives a rootless container's network namespace outside
// connectivity and published ports through pasta(1) (passt).
//
// An unprivileged user can create a network namespace but cannot connect
// it to the host's network (no veth into the host's namespace, no
// bridge, no nftables rules there). pasta does it without privileges: it
// joins the container's user and network namespaces, creates a tap
// interface there with the host's addresses and routes (--config-net),
// and translates the namespace's traffic to ordinary sockets of the
// calling user on the host. Published ports are sockets pasta listens on
// in the host's namespace (-t/-u) and forwards into the container's.
//
// It owns the pasta command line, starting it for a process's namespaces
// and waiting until it is set up (pasta forks to the background once its
// tap and its listening sockets exist), and stopping it by the pid it
// wrote (checked to still be pasta, and to be the one started for that
// pid file, before it is signalled). It does not create namespaces and
// knows nothing of containers.
package pasta

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/procfs"
)

// Forward is one published port: host HostIP:HostPort to ContainerPort in
// the container's network namespace.
type Forward struct {
	// Protocol is "tcp" (also when empty) or "udp".
	Protocol string
	// HostIP is the host address to listen on. The zero Addr is all of
	// both families; 0.0.0.0 is IPv4's only, :: IPv6's only.
	HostIP netip.Addr
	// HostPort is the port on the host; ContainerPort the one it reaches.
	HostPort, ContainerPort uint16
}

// Process is a running pasta daemon.
type Process struct {
	// Pid is the daemon's pid (as written to its pid file).
	Pid int
	// PidFile is the file the daemon wrote its pid to.
	PidFile string
}

// setupTimeout bounds how long pasta may take to set up before it forks to
// the background; stopTimeout how long it may take to exit after SIGTERM.
const (
	setupTimeout = 15 * time.Second
	stopTimeout  = 3 * time.Second
)

// errNotFound is the error of a host without pasta.
var errNotFound = errors.New("rootless networking needs pasta (apt install passt)")

// tunDevice is what pasta opens to make its tap interface; it must be
// readable and writable by the caller (Debian's udev rules make it 0666).
const tunDevice = "/dev/net/tun"

// Available reports whether pasta can be run: nil when it is in PATH and
// the caller may open /dev/net/tun.
func Available() error {
	if _, err := exec.LookPath("pasta"); err != nil {
		return fmt.Errorf("%w: %w", errNotFound, err)
	}
	if err := unix.Access(tunDevice, unix.R_OK|unix.W_OK); err != nil {
		return fmt.Errorf("rootless networking: pasta needs read-write access to %s: %w", tunDevice, err)
	}
	return nil
}

// Args is the pasta command line (without the program name) for the
// namespaces of pid: the namespace configured like the host (addresses,
// routes, the tap up), fwd published, nothing else forwarded in either
// direction, and connections from the container to the gateway address
// not mapped to the host's loopback (the container cannot reach services
// bound to the host's 127.0.0.1).
func Args(pid int, fwd []Forward, pidFile string) ([]string, error) {
	args := []string{"--config-net", "--quiet", "--no-map-gw", "--pid", pidFile}
	var tcp, udp []string
	for _, f := range fwd {
		spec, err := portSpec(f)
		if err != nil {
			return nil, err
		}
		switch strings.ToLower(f.Protocol) {
		case "", "tcp":
			tcp = append(tcp, spec)
		case "udp":
			udp = append(udp, spec)
		default:
			return nil, fmt.Errorf("publish %s: protocol %q: only tcp and udp can be published", spec, f.Protocol)
		}
	}
	// Without -t/-u pasta forwards every port bound in the namespace
	// ("auto"); -T/-U would forward the namespace's loopback ports to
	// the host's.
	args = append(args, portArgs("-t", tcp)...)
	args = append(args, portArgs("-u", udp)...)
	args = append(args, "-T", "none", "-U", "none", strconv.Itoa(pid))
	return args, nil
}

// portSpec is f in pasta's syntax: [ADDR/]HOSTPORT:CONTAINERPORT.
func portSpec(f Forward) (string, error) {
	if f.HostPort == 0 || f.ContainerPort == 0 {
		return "", fmt.Errorf("publish %d:%d/%s: ports must be 1-65535", f.HostPort, f.ContainerPort, f.Protocol)
	}
	spec := fmt.Sprintf("%d:%d", f.HostPort, f.ContainerPort)
	if f.HostIP.IsValid() {
		if f.HostIP.Zone() != "" {
			return "", fmt.Errorf("publish %s: an address with a zone cannot be published by pasta", f.HostIP)
		}
		spec = f.HostIP.Unmap().String() + "/" + spec
	}
	return spec, nil
}

// portArgs is one flag per spec (an address applies to the whole of one
// option), or "flag none".
func portArgs(flag string, specs []string) []string {
	if len(specs) == 0 {
		return []string{flag, "none"}
	}
	var out []string
	for _, s := range specs {
		out = append(out, flag, s)
	}
	return out
}

// Start runs pasta for the user and network namespaces of pid, publishing
// fwd, and returns once pasta is set up and runs in the background. The
// daemon writes its pid to pidFile, which Stop and StopPidFile use. The
// caller must own pid's user namespace (or be root).
func Start(pid int, fwd []Forward, pidFile string) (*Process, error) {
	bin, err := exec.LookPath("pasta")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotFound, err)
	}
	pidFile, err = filepath.Abs(pidFile)
	if err != nil {
		return nil, fmt.Errorf("pasta pid file: %w", err)
	}
	args, err := Args(pid, fwd, pidFile)
	if err != nil {
		return nil, err
	}
	os.Remove(pidFile)
	// pasta's errors come on stderr. A file, not a pipe: the daemon it
	// forks could otherwise keep the pipe open and Wait would not return.
	errFile, err := os.CreateTemp(filepath.Dir(pidFile), ".pasta-err-")
	if err != nil {
		return nil, fmt.Errorf("start pasta: %w", err)
	}
	os.Remove(errFile.Name())
	defer errFile.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("start pasta: %w", err)
	}
	defer devnull.Close()
	cmd := &exec.Cmd{Path: bin, Args: append([]string{"pasta"}, args...), Stdin: devnull, Stdout: errFile, Stderr: errFile}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pasta: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(setupTimeout):
		cmd.Process.Kill()
		<-done
		stopDaemon(pidFile)
		return nil, fmt.Errorf("pasta for process %d: not set up after %v", pid, setupTimeout)
	}
	if err != nil {
		errFile.Seek(0, 0)
		msg, _ := io.ReadAll(io.LimitReader(errFile, 4096))
		stopDaemon(pidFile)
		return nil, fmt.Errorf("pasta for process %d: %w: %s", pid, err, oneLine(msg))
	}
	p, err := find(pidFile)
	if err != nil {
		return nil, fmt.Errorf("pasta for process %d: %w", pid, err)
	}
	return p, nil
}

// oneLine joins pasta's message lines, without those about the system
// logger it could not reach.
func oneLine(msg []byte) string {
	var lines []string
	for _, l := range strings.Split(string(msg), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.Contains(l, "to syslog") {
			lines = append(lines, l)
		}
	}
	if len(lines) == 0 {
		return "no message"
	}
	return strings.Join(lines, "; ")
}

// find reads the pid in pidFile and checks it is the pasta that wrote it.
func find(pidFile string) (*Process, error) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return nil, fmt.Errorf("read pasta pid file: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		return nil, fmt.Errorf("pasta pid file %s: bad pid %q", pidFile, strings.TrimSpace(string(data)))
	}
	if err := verify(pid, pidFile); err != nil {
		return nil, err
	}
	return &Process{Pid: pid, PidFile: pidFile}, nil
}

// verify checks that pid is a pasta (its name: pasta, passt, or the
// passt.avx2 pasta runs on CPUs that have AVX2; its exe is not readable,
// pasta is not dumpable) started with pidFile, so that a pid reused by
// another process is never signalled.
func verify(pid int, pidFile string) error {
	proc := "/proc/" + strconv.Itoa(pid)
	comm, err := os.ReadFile(proc + "/comm")
	if err != nil {
		return fmt.Errorf("pasta process %d: %w", pid, err)
	}
	name := strings.TrimSpace(string(comm))
	if base := strings.TrimSuffix(name, ".avx2"); base != "pasta" && base != "passt" {
		return fmt.Errorf("process %d is %q, not pasta", pid, name)
	}
	cmdline, err := os.ReadFile(proc + "/cmdline")
	if err != nil {
		return fmt.Errorf("pasta process %d: %w", pid, err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	for i := 0; i+1 < len(args); i++ {
		if (args[i] == "--pid" || args[i] == "-P") && args[i+1] == pidFile {
			return nil
		}
	}
	return fmt.Errorf("process %d is a pasta of another pid file than %s", pid, pidFile)
}

// Stop ends the daemon: SIGTERM, then SIGKILL if it has not exited within
// a few seconds. A daemon already gone is not an error.
func (p *Process) Stop() error {
	if err := verify(p.Pid, p.PidFile); err != nil {
		if gone(p.Pid) {
			return nil
		}
		return fmt.Errorf("stop pasta: %w", err)
	}
	return terminate(p.Pid)
}

// StopPidFile ends the pasta daemon that wrote pidFile, if it still runs
// (a sweep after a crash of whatever started it), and removes the file.
func StopPidFile(pidFile string) error {
	err := stopDaemon(pidFile)
	os.Remove(pidFile)
	return err
}

func stopDaemon(pidFile string) error {
	p, err := find(pidFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("stop pasta: %w", err)
	}
	return p.Stop()
}

// terminate sends SIGTERM and waits (bounded) for pid to go, reaping it
// when it is our child (pasta is re-parented to a subreaper after it
// forks to the background).
func terminate(pid int) error {
	if err := unix.Kill(pid, unix.SIGTERM); err != nil {
		if errors.Is(err, unix.ESRCH) {
			return nil
		}
		return fmt.Errorf("stop pasta %d: %w", pid, err)
	}
	deadline := time.Now().Add(stopTimeout)
	killed := false
	for !gone(pid) {
		if time.Now().After(deadline) {
			if killed {
				return fmt.Errorf("stop pasta %d: still running after SIGKILL", pid)
			}
			unix.Kill(pid, unix.SIGKILL)
			killed, deadline = true, time.Now().Add(stopTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// gone reports whether pid has exited (a zombie counts as gone; one that
// is our child is reaped).
func gone(pid int) bool {
	var ws unix.WaitStatus
	if wpid, _ := unix.Wait4(pid, &ws, unix.WNOHANG, nil); wpid == pid {
		return true
	}
	st, err := procfs.ReadStat(pid)
	return errors.Is(err, procfs.ErrNoProcess) || (err == nil && st.State == 'Z')
}
