package seccomp

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/seccomp/internal/int80"
)

// A filter cannot be taken off a process, so the kernel tests load theirs
// in a child: the test binary again, told what to do by childEnv. The child
// writes one line per event to stdout, each with its own write(2) so that a
// line is out before a syscall that kills the child.
const childEnv = "TINCAN_SECCOMP_TEST_CHILD"

func TestMain(m *testing.M) {
	if plan := os.Getenv(childEnv); plan != "" {
		os.Exit(childMain(plan))
	}
	os.Exit(m.Run())
}

// childPlan says what the child does, in this order.
type childPlan struct {
	// ProbeInt80 makes an i386 getpid before anything else and stops when
	// the gate does not work.
	ProbeInt80 bool
	// ConnectAgent connects to a seccomp agent's socket before loading.
	ConnectAgent string
	AgentState   specs.ContainerProcessState
	// DropCaps clears the effective capability set.
	DropCaps bool
	// NoNewPrivs sets no_new_privs; Load needs it or CAP_SYS_ADMIN.
	NoNewPrivs bool
	// OtherThread makes the calls from a thread started before Load, to
	// see TSYNC at work.
	OtherThread bool
	// Program is the filter, as MarshalBinary encodes it.
	Program []byte
	// Loads, for the benchmark, loads Program that many times and reports
	// the time taken instead of making calls.
	Loads int
	// TimeSyscalls, for the benchmark, times that many getppid calls
	// before and after loading Program once, instead of making calls.
	TimeSyscalls int
	// Answers, when set, makes a goroutine answer notifications for
	// NotifyNr on the listener.
	Answers  []notifyAnswer
	NotifyNr uint32
	Calls    []childCall
}

type childCall struct {
	Nr   uint32
	Args [6]uint64
	// I386 makes the call through int $0x80.
	I386 bool
}

type childResult struct {
	R1    uint64
	Errno int
}

func childMain(encoded string) int {
	// no_new_privs and capabilities are per thread until the filter is
	// loaded, so all of it happens on this one.
	runtime.LockOSThread()
	var plan childPlan
	if err := json.Unmarshal([]byte(encoded), &plan); err != nil {
		fmt.Println("child-error: plan:", err)
		return 2
	}
	if err := childRun(&plan); err != nil {
		fmt.Println("child-error:", err)
		return 2
	}
	return 0
}

func childRun(plan *childPlan) error {
	if plan.ProbeInt80 {
		fmt.Println("probing-int80")
		if got := int80.Syscall(20, 0, 0, 0, 0, 0, 0); int(got) != os.Getpid() {
			return fmt.Errorf("int80 getpid returned %d", got)
		}
		fmt.Println("probe-ok")
	}
	var agent *os.File
	if plan.ConnectAgent != "" {
		var err error
		if agent, err = ConnectListener(plan.ConnectAgent); err != nil {
			return err
		}
	}
	if plan.DropCaps {
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return err
		}
		data[0].Effective, data[1].Effective = 0, 0
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return err
		}
	}
	if plan.NoNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return err
		}
	}
	calls := make(chan childCall)
	results := make(chan childResult)
	if plan.OtherThread {
		started := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(started)
			for c := range calls {
				results <- makeCall(c)
			}
		}()
		<-started
	}
	var p Program
	if err := p.UnmarshalBinary(plan.Program); err != nil {
		return err
	}
	if plan.Loads > 0 {
		return benchmarkLoads(&p, plan.Loads)
	}
	if plan.TimeSyscalls > 0 {
		return benchmarkSyscalls(&p, plan.TimeSyscalls)
	}
	listener, err := Load(&p)
	if err != nil {
		fmt.Println("load-error:", err)
		return nil
	}
	fmt.Println("loaded", listener)
	if len(plan.Answers) > 0 {
		go func() {
			if err := serveNotifications(listener, plan.NotifyNr, plan.Answers); err != nil {
				fmt.Println("agent-error:", err)
			}
		}()
	}
	if agent != nil {
		if err := SendListenerOn(agent, listener, plan.AgentState); err != nil {
			return err
		}
		unix.Close(listener)
	}
	for _, c := range plan.Calls {
		var r childResult
		if plan.OtherThread {
			calls <- c
			r = <-results
		} else {
			r = makeCall(c)
		}
		line, _ := json.Marshal(r)
		fmt.Printf("result %s\n", line)
	}
	return nil
}

func makeCall(c childCall) childResult {
	if c.I386 {
		a := c.Args
		r := int80.Syscall(c.Nr, uint32(a[0]), uint32(a[1]), uint32(a[2]), uint32(a[3]), uint32(a[4]), uint32(a[5]))
		if r < 0 && r > -4096 {
			return childResult{Errno: int(-r)}
		}
		return childResult{R1: uint64(uint32(r))}
	}
	a := c.Args
	r1, _, errno := unix.Syscall6(uintptr(c.Nr), uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
	return childResult{R1: uint64(r1), Errno: int(errno)}
}

func benchmarkLoads(p *Program, n int) error {
	var first, rest time.Duration
	for i := range n {
		start := time.Now()
		if _, err := Load(p); err != nil {
			return err
		}
		if i == 0 {
			first = time.Since(start)
		} else {
			rest += time.Since(start)
		}
	}
	fmt.Println("loads-ns", first.Nanoseconds(), rest.Nanoseconds())
	return nil
}

func benchmarkSyscalls(p *Program, n int) error {
	timeCalls := func() time.Duration {
		start := time.Now()
		for range n {
			unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
		}
		return time.Since(start)
	}
	before := timeCalls()
	if _, err := Load(p); err != nil {
		return err
	}
	after := timeCalls()
	fmt.Println("syscalls-ns", before.Nanoseconds(), after.Nanoseconds())
	return nil
}

// childOutcome is what the parent saw of a child.
type childOutcome struct {
	lines   []string
	results []childResult
	loadErr string
	state   *os.ProcessState
	stderr  string
}

func (o *childOutcome) has(line string) bool {
	for _, l := range o.lines {
		if l == line {
			return true
		}
	}
	return false
}

// runChild runs plan in a child and collects what it reported. It fails the
// test when the child reports an error of its own (not a load error).
func runChild(t testing.TB, plan childPlan) *childOutcome {
	t.Helper()
	encoded, err := json.Marshal(plan)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if deadline, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := deadline.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d)
			defer cancel()
		}
	}
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(encoded))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run() // the outcome is in ProcessState and the output
	o := &childOutcome{state: cmd.ProcessState, stderr: stderr.String()}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		line := sc.Text()
		o.lines = append(o.lines, line)
		switch {
		case strings.HasPrefix(line, "result "):
			var r childResult
			if err := json.Unmarshal([]byte(strings.TrimPrefix(line, "result ")), &r); err != nil {
				t.Fatalf("child result %q: %v", line, err)
			}
			o.results = append(o.results, r)
		case strings.HasPrefix(line, "load-error: "):
			o.loadErr = strings.TrimPrefix(line, "load-error: ")
		case strings.HasPrefix(line, "child-error:") && !plan.ProbeInt80:
			t.Fatalf("child: %s", line)
		}
	}
	return o
}

// loadedListener returns the listener fd number the child reported.
func (o *childOutcome) loadedListener() (int, bool) {
	for _, l := range o.lines {
		if s, ok := strings.CutPrefix(l, "loaded "); ok {
			n, err := strconv.Atoi(s)
			return n, err == nil
		}
	}
	return 0, false
}

func encode(t testing.TB, p *Program) []byte {
	t.Helper()
	b, err := p.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
