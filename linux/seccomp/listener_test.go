package seccomp

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// agentMessage is what a test agent received on one connection.
type agentMessage struct {
	state specs.ContainerProcessState
	fds   []int
	err   error
}

// listenAsAgent listens on a unix socket like a seccomp agent and delivers
// what the first connection sends, once the sender has closed it.
func listenAsAgent(t *testing.T) (string, <-chan agentMessage) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan agentMessage, 1)
	go func() {
		got <- receiveAsAgent(l)
	}()
	return path, got
}

func receiveAsAgent(l *net.UnixListener) (m agentMessage) {
	conn, err := l.AcceptUnix()
	if err != nil {
		return agentMessage{err: err}
	}
	defer conn.Close()
	var payload []byte
	buf := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		payload = append(payload, buf[:n]...)
		if oobn > 0 {
			msgs, perr := unix.ParseSocketControlMessage(oob[:oobn])
			if perr != nil {
				return agentMessage{err: perr}
			}
			for _, msg := range msgs {
				fds, perr := unix.ParseUnixRights(&msg)
				if perr != nil {
					return agentMessage{err: perr}
				}
				m.fds = append(m.fds, fds...)
			}
		}
		if errors.Is(err, io.EOF) || (err == nil && n == 0) {
			break
		}
		if err != nil {
			return agentMessage{err: err}
		}
	}
	m.err = json.Unmarshal(payload, &m.state)
	return m
}

func TestSendListener(t *testing.T) {
	path, got := listenAsAgent(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	state := specs.ContainerProcessState{
		Pid:      1234,
		Metadata: "MKNOD=/dev/null",
		// Big enough to need more than one read on the other side.
		State: specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating, Pid: 1234, Bundle: "/b",
			Annotations: map[string]string{"big": strings.Repeat("x", 100000)}},
	}
	if err := SendListener(path, int(w.Fd()), state); err != nil {
		t.Fatal(err)
	}
	m := <-got
	if m.err != nil {
		t.Fatal(m.err)
	}
	if len(m.fds) != 1 {
		t.Fatalf("received %d fds, want 1", len(m.fds))
	}
	// The fd received is the pipe's write end: what goes in comes out of r.
	sent := os.NewFile(uintptr(m.fds[0]), "received")
	defer sent.Close()
	if _, err := sent.Write([]byte("ok")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 2)
	if _, err := io.ReadFull(r, buf); err != nil || string(buf) != "ok" {
		t.Fatalf("read %q, %v through the received fd", buf, err)
	}
	want := state
	want.Version = specs.Version
	want.Fds = []string{specs.SeccompFdName}
	if !reflect.DeepEqual(m.state, want) {
		t.Errorf("agent got state %+v\nwant %+v", m.state, want)
	}
}

func TestSendListenerErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.sock")
	err := SendListener(missing, 0, specs.ContainerProcessState{})
	if !errors.Is(err, unix.ENOENT) || !strings.Contains(err.Error(), missing) {
		t.Errorf("got %v, want ENOENT naming the socket", err)
	}
}

// TestKernelNotifyThroughAgent does what the runtime does: the child
// connects to the agent before loading, loads a notify filter, sends the
// listener, then makes a notified call, which the agent (this process)
// answers through the fd it received.
func TestKernelNotifyThroughAgent(t *testing.T) {
	path, got := listenAsAgent(t)
	c := &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: path, ListenerMetadata: "meta",
		Syscalls: []specs.LinuxSyscall{{Names: []string{"getpgid"}, Action: specs.ActNotify}}}
	getpgid := nr(t, abiX86_64, "getpgid")
	agentErr := make(chan error, 1)
	var received agentMessage
	go func() {
		received = <-got
		if received.err != nil || len(received.fds) != 1 {
			agentErr <- errors.Join(received.err, errors.New("no listener fd"))
			return
		}
		defer unix.Close(received.fds[0])
		agentErr <- serveNotifications(received.fds[0], getpgid, []notifyAnswer{{Errno: firstMarker + 7}})
	}()
	state := specs.ContainerProcessState{Pid: 99, Metadata: c.ListenerMetadata,
		State: specs.State{Version: specs.Version, ID: "c1", Status: specs.StateCreating}}
	o := runChild(t, childPlan{NoNewPrivs: true, Program: encode(t, mustCompile(t, c)), ConnectAgent: path,
		AgentState: state, Calls: []childCall{x86Call(t, "getpgid")}})
	if err := <-agentErr; err != nil {
		t.Fatalf("agent: %v; child %q", err, o.lines)
	}
	if len(o.results) != 1 || o.results[0].Errno != firstMarker+7 {
		t.Fatalf("getpgid: %+v, want the agent's errno %d; %q", o.results, firstMarker+7, o.lines)
	}
	if received.state.Pid != 99 || received.state.Metadata != "meta" || !reflect.DeepEqual(received.state.Fds, []string{"seccompFd"}) {
		t.Errorf("agent got %+v", received.state)
	}
}
