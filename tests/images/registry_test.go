package images

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// registryBinary is Debian's docker-registry (distribution).
const registryBinary = "/usr/bin/docker-registry"

// registry is a docker-registry serving 127.0.0.1 on a free port, with its
// storage in a test directory.
type registry struct {
	// Host is "127.0.0.1:PORT".
	Host string
	// Storage is its storage root.
	Storage string
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startRegistry starts a registry and stops it at the test's cleanup.
// htpasswd, when set, is a bcrypt htpasswd file's content: the registry
// then wants basic authentication.
func startRegistry(t *testing.T, htpasswd string) *registry {
	t.Helper()
	if _, err := os.Stat(registryBinary); err != nil {
		t.Fatalf("%s not found: install docker-registry (make deps)", registryBinary)
	}
	dir := t.TempDir()
	r := &registry{Storage: filepath.Join(dir, "storage")}
	auth := ""
	if htpasswd != "" {
		path := filepath.Join(dir, "htpasswd")
		if err := os.WriteFile(path, []byte(htpasswd), 0o600); err != nil {
			t.Fatal(err)
		}
		auth = fmt.Sprintf("auth:\n  htpasswd:\n    realm: test\n    path: %s\n", path)
	}
	var cmd *exec.Cmd
	var exited chan error
	logPath := filepath.Join(dir, "registry.log")
	for attempt := 0; attempt < 5 && cmd == nil; attempt++ {
		r.Host = fmt.Sprintf("127.0.0.1:%d", freePort(t))
		conf := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
%s`, r.Storage, r.Host, auth)
		confPath := filepath.Join(dir, "config.yml")
		if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		cmd = exec.Command(registryBinary, "serve", confPath)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		err = cmd.Start()
		logf.Close()
		if err != nil {
			t.Fatalf("start registry: %v", err)
		}
		exited = make(chan error, 1)
		go func(c *exec.Cmd, ch chan error) { ch <- c.Wait() }(cmd, exited)
		if !waitRegistry(r.Host, exited) {
			cmd.Process.Kill()
			<-exited
			cmd = nil // the port was taken meanwhile: try another
		}
	}
	if cmd == nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("registry did not start: %s", log)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	return r
}

// waitRegistry polls /v2/ until the registry answers (any status), or
// gives up when its process exits or after a deadline.
func waitRegistry(host string, exited chan error) bool {
	deadline := time.Now().Add(15 * time.Second)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err // for the caller's receive
			return false
		default:
		}
		resp, err := client.Get("http://" + host + "/v2/")
		if err == nil {
			resp.Body.Close()
			return true
		}
		var op *net.OpError
		if !errors.As(err, &op) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
