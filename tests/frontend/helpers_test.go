package frontend

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tincan/tincan/linux/cgroups"
	"github.com/tincan/tincan/linux/console"
)

// inspectOne returns `tincan inspect ref` decoded.
func (e *env) inspectOne(ref string) map[string]any {
	e.t.Helper()
	var out []map[string]any
	r := e.must("inspect", ref)
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || len(out) != 1 {
		e.t.Fatalf("inspect %s: %v: %q", ref, err, r.stdout)
	}
	return out[0]
}

// state is inspect's State object of ref.
func (e *env) state(ref string) map[string]any {
	e.t.Helper()
	return e.inspectOne(ref)["State"].(map[string]any)
}

// pid is the host pid of a running container's init.
func (e *env) pid(ref string) int {
	e.t.Helper()
	pid := int(e.state(ref)["Pid"].(float64))
	if pid <= 0 {
		e.t.Fatalf("container %s has no pid: %v", ref, e.state(ref))
	}
	return pid
}

// runDetached starts a detached container and returns its id; it is
// removed when the test ends (the env's cleanup).
func (e *env) runDetached(name string, args ...string) string {
	e.t.Helper()
	all := append([]string{"run", "-d", "--name", name}, args...)
	id := strings.TrimSpace(e.must(all...).stdout)
	if len(id) != 64 {
		e.t.Fatalf("run -d %s printed %q, want an id", name, id)
	}
	return id
}

// waitCode waits (bounded) for a container to exit and returns its status.
func (e *env) waitCode(ref string) string {
	e.t.Helper()
	cmd := e.cmd("wait", ref)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() {
		out, err = cmd.Output()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		<-done
		e.t.Fatalf("container %s did not exit", ref)
	}
	if err != nil {
		e.t.Fatalf("wait %s: %v", ref, err)
	}
	return strings.TrimSpace(string(out))
}

// cgroupFile reads a file of controller in a container's cgroup: v1File
// in the controller's v1 hierarchy, or v2File where the controller is on
// cgroup v2. ok is false when this host has neither (or not that file,
// such as swap accounting).
func (e *env) cgroupFile(id, controller, v1File, v2File string) (value string, isV2, ok bool) {
	e.t.Helper()
	var st struct {
		CgroupPath string `json:"cgroupPath"`
	}
	if err := json.Unmarshal(mustRead(e.t, filepath.Join(e.run, id, "state.json")), &st); err != nil || st.CgroupPath == "" {
		e.t.Fatalf("runtime state of %s: %v (cgroup %q)", id, err, st.CgroupPath)
	}
	m, err := cgroups.Load(st.CgroupPath)
	if err != nil {
		e.t.Fatalf("cgroup %s: %v", st.CgroupPath, err)
	}
	dir, file := "", v1File
	if cgroups.DetectMode() != cgroups.Unified {
		dir = m.Path(controller)
	}
	if dir == "" {
		dir, file, isV2 = m.Path(""), v2File, true
		have, _ := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		if dir == "" || !slices.Contains(strings.Fields(string(have)), controller) {
			return "", false, false
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, file))
	if errors.Is(err, os.ErrNotExist) {
		return "", isV2, false
	}
	if err != nil {
		e.t.Fatalf("read %s of %s: %v", file, id, err)
	}
	return strings.TrimSpace(string(data)), isV2, true
}

// ptyCmd is a tincan command whose stdio is a terminal this test holds the
// other side of.
type ptyCmd struct {
	t      *testing.T
	cmd    *exec.Cmd
	master *os.File
	slave  *os.File
	mu     sync.Mutex
	out    bytes.Buffer
	done   chan struct{}
	code   int
}

// startPty starts tincan with a new pty of rows x cols as its stdin,
// stdout and stderr.
func (e *env) startPty(rows, cols uint16, args ...string) *ptyCmd {
	e.t.Helper()
	master, slave, err := console.NewPty("/dev/ptmx")
	if err != nil {
		e.t.Fatalf("new pty: %v", err)
	}
	if err := console.SetWinsize(slave, rows, cols); err != nil {
		e.t.Fatal(err)
	}
	p := &ptyCmd{t: e.t, cmd: e.cmd(args...), master: master, slave: slave, done: make(chan struct{})}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = slave, slave, slave
	// A session of its own with the pty as its controlling terminal, as
	// in a person's shell.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := p.cmd.Start(); err != nil {
		e.t.Fatalf("start tincan %v: %v", args, err)
	}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		err := p.cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			p.code = ee.ExitCode()
		} else if err != nil {
			p.code = -1
		}
		close(p.done)
	}()
	e.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		master.Close()
		slave.Close()
	})
	return p
}

// output is what the terminal showed so far.
func (p *ptyCmd) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits until the terminal shows want.
func (p *ptyCmd) waitFor(want string) {
	p.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(p.output(), want) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal never showed %q; it showed %q", want, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// typeText types text into the terminal.
func (p *ptyCmd) typeText(text string) {
	p.t.Helper()
	if _, err := p.master.WriteString(text); err != nil {
		p.t.Fatalf("type into the terminal: %v", err)
	}
}

// resize changes the terminal's size and tells tincan, as a terminal
// emulator does (the kernel signals only the foreground process group).
func (p *ptyCmd) resize(rows, cols uint16) {
	p.t.Helper()
	if err := console.SetWinsize(p.slave, rows, cols); err != nil {
		p.t.Fatal(err)
	}
	p.cmd.Process.Signal(syscall.SIGWINCH)
}

// wait waits for tincan to exit and returns its status.
func (p *ptyCmd) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("tincan %v did not exit; the terminal showed %q", p.cmd.Args[1:], p.output())
	}
	return p.code
}
