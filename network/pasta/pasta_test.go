package pasta

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestArgs(t *testing.T) {
	for _, tc := range []struct {
		name string
		fwd  []Forward
		want string
	}{
		{"nothing published", nil, "-t none -u none"},
		{"all addresses", []Forward{{HostPort: 8080, ContainerPort: 80}}, "-t 8080:80 -u none"},
		{"one address", []Forward{{Protocol: "tcp", HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80}},
			"-t 127.0.0.1/8080:80 -u none"},
		{"IPv4 only", []Forward{{Protocol: "TCP", HostIP: netip.IPv4Unspecified(), HostPort: 1, ContainerPort: 2}}, "-t 0.0.0.0/1:2 -u none"},
		{"IPv6 and udp", []Forward{
			{Protocol: "udp", HostIP: netip.MustParseAddr("::1"), HostPort: 5353, ContainerPort: 53},
			{Protocol: "tcp", HostPort: 2222, ContainerPort: 22},
			{Protocol: "udp", HostPort: 9000, ContainerPort: 9000},
		}, "-t 2222:22 -u ::1/5353:53 -u 9000:9000"},
	} {
		args, err := Args(42, tc.fwd, "/run/p.pid")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := "--config-net --quiet --no-map-gw --pid /run/p.pid " + tc.want + " -T none -U none 42"
		if got := strings.Join(args, " "); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, want)
		}
	}
}

func TestArgsRefuses(t *testing.T) {
	for _, f := range []Forward{
		{Protocol: "sctp", HostPort: 1, ContainerPort: 1},
		{HostPort: 0, ContainerPort: 80},
		{HostPort: 80, ContainerPort: 0},
		{HostIP: netip.MustParseAddr("fe80::1%eth0"), HostPort: 80, ContainerPort: 80},
	} {
		if _, err := Args(1, []Forward{f}, "/p"); err == nil {
			t.Errorf("%+v: no error", f)
		}
	}
}

// A pid file naming a process that is not pasta (here: this test) is
// never signalled.
func TestStopPidFileChecksTheProcess(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pasta.pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := StopPidFile(pidFile); err == nil || !strings.Contains(err.Error(), "not pasta") {
		t.Fatalf("StopPidFile of a pid file naming this test: %v, want a not-pasta error", err)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Fatalf("the pid file is still there: %v", err)
	}
	if err := StopPidFile(pidFile); err != nil {
		t.Fatalf("StopPidFile without a pid file: %v", err)
	}
}

func TestOneLineDropsSyslogNoise(t *testing.T) {
	got := oneLine([]byte("Failed to send 45 bytes to syslog\nFailed to open tun socket in namespace\n"))
	if got != "Failed to open tun socket in namespace" {
		t.Fatalf("got %q", got)
	}
	if !slices.Contains([]string{"no message"}, oneLine(nil)) {
		t.Fatal("empty message")
	}
}
