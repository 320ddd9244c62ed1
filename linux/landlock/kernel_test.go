package landlock

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// A Landlock domain cannot be left, so the kernel tests enforce theirs in
// a child: the test binary again, given the annotation and the probes.
const childEnv = "TINCAN_LANDLOCK_TEST_CHILD"

type childJob struct {
	Annotation string
	// Read, Write: files to open; Bind, Connect: loopback TCP ports;
	// Signal: a pid outside the sandbox to send signal 0 to.
	Read, Write   []string
	Bind, Connect []int
	Signal        int
}

func TestMain(m *testing.M) {
	if job := os.Getenv(childEnv); job != "" {
		os.Exit(child(job))
	}
	os.Exit(m.Run())
}

func child(encoded string) int {
	runtime.LockOSThread()
	var job childJob
	if err := json.Unmarshal([]byte(encoded), &job); err != nil {
		return 2
	}
	c, err := Parse(job.Annotation)
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 2
	}
	plan, _, err := c.Negotiate(ABI())
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 2
	}
	rs, err := plan.Build()
	if err != nil {
		os.Stderr.WriteString(err.Error())
		return 2
	}
	if err := rs.RestrictSelf(); err != nil {
		os.Stderr.WriteString(err.Error())
		return 2
	}
	// Everything below runs on this (restricted) thread.
	out := map[string]string{}
	for _, p := range job.Read {
		out["read "+p] = result(unix.Open(p, unix.O_RDONLY|unix.O_CLOEXEC, 0))
	}
	for _, p := range job.Write {
		out["write "+p] = result(unix.Open(p, unix.O_WRONLY|unix.O_CLOEXEC, 0))
	}
	for _, port := range job.Bind {
		fd, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		out["bind "+strconv.Itoa(port)] = result(0, unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
		unix.Close(fd)
	}
	for _, port := range job.Connect {
		fd, _ := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		out["connect "+strconv.Itoa(port)] = result(0, unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}))
		unix.Close(fd)
	}
	if job.Signal != 0 {
		out["signal"] = result(0, unix.Kill(job.Signal, 0))
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

func result(fd int, err error) string {
	if err != nil {
		return err.(unix.Errno).Error()
	}
	if fd > 0 {
		unix.Close(fd)
	}
	return "ok"
}

func runChild(t *testing.T, job childJob) map[string]string {
	t.Helper()
	data, _ := json.Marshal(job)
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(data))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v: %s", err, stderr.String())
	}
	var res map[string]string
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("child output %q: %v", out, err)
	}
	return res
}

func requireLandlock(t *testing.T, abi int) {
	t.Helper()
	if v := ABI(); v < abi {
		t.Skipf("this kernel's Landlock ABI is %d (0: none), the test needs %d", v, abi)
	}
}

func writeFile(t *testing.T, path string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("secret"), 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFilesystemRulesInKernel(t *testing.T) {
	requireLandlock(t, 1)
	allowed, denied := t.TempDir(), t.TempDir()
	inside := writeFile(t, filepath.Join(allowed, "file"))
	outside := writeFile(t, filepath.Join(denied, "file"))
	single := writeFile(t, filepath.Join(denied, "single"))
	ann := `{"fs": [{"allow": ["read"], "paths": ["` + allowed + `", "` + single + `", "/nonexistent"]}]}`
	got := runChild(t, childJob{Annotation: ann, Read: []string{inside, outside, single}, Write: []string{inside}})
	want := map[string]string{
		"read " + inside:  "ok",
		"read " + outside: unix.EACCES.Error(),
		// A rule on a single file: only the file rights of "read" apply.
		"read " + single:  "ok",
		"write " + inside: unix.EACCES.Error(),
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %s, want %s", k, got[k], w)
		}
	}
}

func TestNetworkRulesInKernel(t *testing.T) {
	requireLandlock(t, netABI)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	open := l.Addr().(*net.TCPAddr).Port
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l2.Addr().(*net.TCPAddr).Port
	l2.Close()
	ann := `{"net": {"connectTCP": [` + strconv.Itoa(open) + `]}}`
	got := runChild(t, childJob{Annotation: ann, Connect: []int{open, closed}, Bind: []int{closed}})
	if got["connect "+strconv.Itoa(open)] != "ok" {
		t.Errorf("connect to the allowed port %d: %s", open, got["connect "+strconv.Itoa(open)])
	}
	if got["connect "+strconv.Itoa(closed)] != unix.EACCES.Error() {
		t.Errorf("connect to port %d: %s, want EACCES", closed, got["connect "+strconv.Itoa(closed)])
	}
	if got["bind "+strconv.Itoa(closed)] != unix.EACCES.Error() {
		t.Errorf("bind port %d: %s, want EACCES", closed, got["bind "+strconv.Itoa(closed)])
	}
}

func TestSignalScopeInKernel(t *testing.T) {
	requireLandlock(t, scopeABI)
	got := runChild(t, childJob{Annotation: `{"scope": ["signal"]}`, Signal: os.Getpid()})
	if got["signal"] != unix.EPERM.Error() {
		t.Errorf("signal the parent from the sandbox: %s, want EPERM", got["signal"])
	}
	got = runChild(t, childJob{Annotation: `{"fs": [{"allow": ["read"], "paths": ["/"]}]}`, Signal: os.Getpid()})
	if got["signal"] != "ok" {
		t.Errorf("signal the parent without the scope: %s", got["signal"])
	}
}

func TestABI(t *testing.T) {
	v, _, errno := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, createRulesetVersion)
	want := int(v)
	if errno != 0 {
		want = 0
	}
	if ABI() != want {
		t.Fatalf("ABI() = %d, the kernel says %d (%v)", ABI(), want, errno)
	}
}

func TestRestrictNilRuleset(t *testing.T) {
	var r *Ruleset
	if err := r.RestrictSelf(); err != nil {
		t.Fatal(err)
	}
	p := &Plan{}
	rs, err := p.Build()
	if rs != nil || err != nil {
		t.Fatalf("empty plan built %v, %v", rs, err)
	}
}
