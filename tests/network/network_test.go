package network

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tincan/tincan/network/link"
)

// outsideHost is a network namespace linked to the host by a veth pair:
// another machine, as far as the host's firewall can tell. Its file is in
// the test's temporary directory (not `ip netns add`, which leaves
// /run/netns mounted on the host).
type outsideHost struct {
	ns       string // the namespace file
	hostAddr string // the host's address on the link
	peerAddr string // the other host's
}

func newOutsideHost(t *testing.T) *outsideHost {
	t.Helper()
	r := rand.IntN(1 << 14)
	o := &outsideHost{ns: filepath.Join(t.TempDir(), "outside")}
	if err := link.CreateNetNS(o.ns); err != nil {
		t.Fatal(err)
	}
	// A /30 of 198.18.0.0/15 (benchmarking addresses, never routed).
	base := 4 * r
	o.hostAddr = fmt.Sprintf("198.18.%d.%d", base/256, base%256+1)
	o.peerAddr = fmt.Sprintf("198.18.%d.%d", base/256, base%256+2)
	peerAddr := o.peerAddr
	hostIf, peerIf := fmt.Sprintf("tctho%d", r), fmt.Sprintf("tctop%d", r)
	t.Cleanup(func() {
		exec.Command("ip", "link", "del", hostIf).Run()
		link.RemoveNetNS(o.ns)
	})
	for _, args := range [][]string{
		{"ip", "link", "add", hostIf, "type", "veth", "peer", "name", peerIf, "netns", o.ns},
		{"ip", "addr", "add", o.hostAddr + "/30", "dev", hostIf},
		{"ip", "link", "set", hostIf, "up"},
		{"nsenter", "--net=" + o.ns, "ip", "addr", "add", peerAddr + "/30", "dev", peerIf},
		{"nsenter", "--net=" + o.ns, "ip", "link", "set", peerIf, "up"},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v: %s", args, err, out)
		}
	}
	return o
}

// in runs a command inside the outside host.
func (o *outsideHost) in(args ...string) *exec.Cmd {
	return exec.Command("nsenter", append([]string{"--net=" + o.ns}, args...)...)
}

// get fetches url from inside the outside host with the probe.
func (o *outsideHost) get(t *testing.T, url string) (string, error) {
	out, err := o.in(probeBinary(t), "get", url).CombinedOutput()
	return string(out), err
}

func TestPublishedPortFromLoopbackBridgeAndOutside(t *testing.T) {
	e := newEnv(t)
	p1, p2 := freePort(t), freePort(t)
	id := e.httpd("web", "-p", fmt.Sprintf("127.0.0.1:%d:80", p1), "-p", fmt.Sprintf("%d:80", p2))
	if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/", p1)); got != "hello from tincan\n" {
		t.Fatalf("GET over loopback: %q", got)
	}
	// The wildcard mapping also answers on localhost and on the host's
	// own addresses (the bridge's gateway here).
	if got := get(t, fmt.Sprintf("http://127.0.0.1:%d/", p2)); got != "hello from tincan\n" {
		t.Errorf("GET over loopback (wildcard): %q", got)
	}
	ns := e.inspect("web")
	gw := strings.TrimSuffix(ns.IPAddress, ns.IPAddress[strings.LastIndexByte(ns.IPAddress, '.'):]) + ".1"
	if got := get(t, fmt.Sprintf("http://%s:%d/", gw, p2)); got != "hello from tincan\n" {
		t.Errorf("GET on the bridge address: %q", got)
	}
	// Hairpin: the container reaches its own published port, and a
	// neighbour on its bridge reaches it, through a host address.
	if out := e.must("exec", "web", "probe", "get", fmt.Sprintf("http://%s:%d/", gw, p2)); out != "hello from tincan\n" {
		t.Errorf("the container through its own published port: %q", out)
	}
	if out := e.must("run", "--rm", "--rootfs", e.rootfs, "probe", "get", fmt.Sprintf("http://%s:%d/", gw, p2)); out != "hello from tincan\n" {
		t.Errorf("a neighbour through the published port: %q", out)
	}
	o := newOutsideHost(t)
	var got string
	var err error
	for i := 0; i < 20; i++ {
		if got, err = o.get(t, fmt.Sprintf("http://%s:%d/", o.hostAddr, p2)); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got != "hello from tincan\n" {
		t.Errorf("GET from another host: %q, %v", got, err)
	}
	// The 127.0.0.1 mapping is not published on other addresses.
	if got, err := o.get(t, fmt.Sprintf("http://%s:%d/", o.hostAddr, p1)); err == nil {
		t.Errorf("a 127.0.0.1 port answered from another host: %q", got)
	}
	// tincan port, docker's format.
	want := []string{fmt.Sprintf("80/tcp -> 0.0.0.0:%d", p2), fmt.Sprintf("80/tcp -> 127.0.0.1:%d", p1)}
	out := e.must("port", "web")
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("tincan port: %q lacks %q", out, w)
		}
	}
	if out := e.must("port", "web", "80"); !strings.Contains(out, fmt.Sprintf("127.0.0.1:%d", p1)) {
		t.Errorf("tincan port web 80: %q", out)
	}
	if out := e.must("ps"); !strings.Contains(out, fmt.Sprintf("127.0.0.1:%d->80/tcp", p1)) {
		t.Errorf("ps lacks the published port:\n%s", out)
	}
	// Another container cannot take a host port in use, and that failed
	// run leaves nothing.
	r := e.tincan("run", "-d", "--name", "clash", "-p", fmt.Sprintf("127.0.0.1:%d:80", p1), "--rootfs", e.rootfs, "sleep", "5")
	if r.code == 0 || !strings.Contains(r.stderr, "already in use") {
		t.Errorf("a second container on a used host port: %+v", r)
	}
	e.must("rm", "-f", "web")
	e.tincan("rm", "-f", "clash")
	if left := e.leftovers(id); len(left) > 0 {
		t.Errorf("left after rm: %v", left)
	}
	if linkExists(e.bridgeName()) {
		t.Errorf("the default bridge %s stays with no container on it", e.bridgeName())
	}
}

// Outbound traffic leaves masqueraded: another host sees the host's
// address, not the container's.
func TestOutboundMasquerade(t *testing.T) {
	e := newEnv(t)
	o := newOutsideHost(t)
	port := 20000 + rand.IntN(10000)
	srv := o.in(probeBinary(t), "whoami", fmt.Sprintf(":%d", port))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	url := fmt.Sprintf("http://%s:%d/", o.peerAddr, port)
	var r result
	for i := 0; i < 20; i++ {
		if r = e.tincan("run", "--rm", "--rootfs", e.rootfs, "probe", "get", url); r.code == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r.code != 0 || r.stdout != o.hostAddr {
		t.Errorf("a container's request to another host came from %q (%s), want the host's %s", r.stdout, r.stderr, o.hostAddr)
	}
}

func TestUDPPublished(t *testing.T) {
	e := newEnv(t)
	p := freePort(t)
	e.must("run", "-d", "--name", "echo", "-p", fmt.Sprintf("127.0.0.1:%d:5353/udp", p), "--rootfs", e.rootfs, "probe", "udp-echo", ":5353")
	addr := fmt.Sprintf("127.0.0.1:%d", p)
	var reply string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && reply == "" {
		c, err := net.Dial("udp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(300 * time.Millisecond))
		c.Write([]byte("ping over udp"))
		buf := make([]byte, 100)
		if n, err := c.Read(buf); err == nil {
			reply = string(buf[:n])
		}
		c.Close()
	}
	if reply != "ping over udp" {
		t.Fatalf("UDP echo through %s: %q", addr, reply)
	}
}

func TestUserNetworksNamesAliasesAndIsolation(t *testing.T) {
	e := newEnv(t)
	e.must("network", "create", "front")
	e.must("network", "create", "back")
	e.httpd("api", "--network", "front", "--network-alias", "service")
	e.httpd("db", "--network", "back")
	api, db := e.inspect("api"), e.inspect("db")
	// By name and by alias, through /etc/hosts.
	for _, name := range []string{"api", "service"} {
		out := e.must("run", "--rm", "--network", "front", "--rootfs", e.rootfs, "probe", "get", "http://"+name+"/")
		if out != "hello from tincan\n" {
			t.Errorf("GET http://%s/ on the same network: %q", name, out)
		}
	}
	if out := e.must("run", "--rm", "--network", "front", "--rootfs", e.rootfs, "probe", "resolve", "api"); strings.TrimSpace(out) != api.IPAddress {
		t.Errorf("api resolves to %q, want %s", out, api.IPAddress)
	}
	// Not across networks: neither the name nor the address.
	if r := e.tincan("run", "--rm", "--network", "back", "--rootfs", e.rootfs, "probe", "resolve", "api"); r.code == 0 {
		t.Errorf("api resolved from another network: %q", r.stdout)
	}
	if r := e.tincan("run", "--rm", "--network", "back", "--rootfs", e.rootfs, "probe", "dial", api.IPAddress+":80"); r.code == 0 {
		t.Errorf("network back reached api at %s on network front", api.IPAddress)
	}
	if r := e.tincan("run", "--rm", "--network", "front", "--rootfs", e.rootfs, "probe", "dial", db.IPAddress+":80"); r.code == 0 {
		t.Errorf("network front reached db at %s on network back", db.IPAddress)
	}
	if r := e.tincan("run", "--rm", "--rootfs", e.rootfs, "probe", "dial", api.IPAddress+":80"); r.code == 0 {
		t.Errorf("the default network reached api on network front")
	}
	// Within the network, by address too.
	if r := e.tincan("run", "--rm", "--network", "back", "--rootfs", e.rootfs, "probe", "dial", db.IPAddress+":80"); r.code != 0 {
		t.Errorf("db unreachable from its own network: %+v", r)
	}
	// A running container's /etc/hosts follows: connect db to front, and
	// api finds it; disconnect, and the name goes.
	e.must("network", "connect", "front", "db")
	if out := e.must("exec", "api", "probe", "get", "http://db/"); out != "hello from tincan\n" {
		t.Errorf("api → db after network connect: %q", out)
	}
	e.must("network", "disconnect", "front", "db")
	if r := e.tincan("exec", "api", "probe", "resolve", "db"); r.code == 0 {
		t.Errorf("db still resolves in api after disconnect: %q", r.stdout)
	}
	if r := e.tincan("network", "rm", "front"); r.code == 0 || !strings.Contains(r.stderr, "api") {
		t.Errorf("network rm of a used network: %+v", r)
	}
	e.must("rm", "-f", "api", "db")
	e.must("network", "rm", "front", "back")
	if out := e.must("network", "ls", "-q"); len(strings.Fields(out)) != 1 {
		t.Errorf("networks after rm: %q, want the default one only", out)
	}
}

func TestIPv6Network(t *testing.T) {
	e := newEnv(t)
	e.must("network", "create", "--ipv6", "six")
	e.httpd("web6", "--network", "six")
	ns := e.inspect("web6")
	if ns.GlobalIPv6Address == "" {
		t.Fatalf("no IPv6 address on an --ipv6 network: %+v", ns)
	}
	out := e.must("run", "--rm", "--network", "six", "--rootfs", e.rootfs, "probe", "get", "http://["+ns.GlobalIPv6Address+"]/")
	if out != "hello from tincan\n" {
		t.Errorf("GET over IPv6: %q", out)
	}
	out = e.must("run", "--rm", "--network", "six", "--rootfs", e.rootfs, "probe", "resolve", "web6")
	if !strings.Contains(out, ns.IPAddress) || !strings.Contains(out, ns.GlobalIPv6Address) {
		t.Errorf("web6 resolves to %q, want %s and %s", out, ns.IPAddress, ns.GlobalIPv6Address)
	}
}

func TestParallelRunsGetUniqueAddresses(t *testing.T) {
	e := newEnv(t)
	e.must("network", "create", "many")
	const n = 20
	ids := make([]string, n)
	errs := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cmd := e.cmd("run", "-d", "--name", "p"+strconv.Itoa(i), "--network", "many", "-p", "80", "--rootfs", e.rootfs, "sleep", "60")
			out, err := cmd.Output()
			if err != nil {
				errs[i] = err.Error()
			}
			ids[i] = strings.TrimSpace(string(out))
		}(i)
	}
	wg.Wait()
	for i, msg := range errs {
		if msg != "" {
			t.Fatalf("parallel run %d: %s", i, msg)
		}
	}
	seen := map[string]string{}
	ports := map[string]string{}
	for i := 0; i < n; i++ {
		name := "p" + strconv.Itoa(i)
		ip := e.inspect(name).IPAddress
		if ip == "" || seen[ip] != "" {
			t.Errorf("%s has address %q (also %s's)", name, ip, seen[ip])
		}
		seen[ip] = name
		port := strings.TrimSpace(e.must("port", name, "80"))
		if ports[port] != "" {
			t.Errorf("%s and %s got the same random host port %s", name, ports[port], port)
		}
		ports[port] = name
	}
	args := append([]string{"rm", "-f"}, ids...)
	e.must(args...)
	e.must("network", "rm", "many")
	if left := e.leftovers(ids...); len(left) > 0 {
		t.Errorf("left after rm: %v", left)
	}
}

func TestEtcFilesAndAddressFlags(t *testing.T) {
	e := newEnv(t)
	e.must("network", "create", "--mtu", "1300", "--subnet", "10.250."+strconv.Itoa(rand.IntN(250))+".0/24", "fixed")
	ns := e.must("network", "inspect", "fixed")
	i := strings.Index(ns, `"subnet": "`)
	subnet := ns[i+len(`"subnet": "`) : i+len(`"subnet": "`)+strings.Index(ns[i+len(`"subnet": "`):], `"`)]
	ip := strings.TrimSuffix(subnet, ".0/24") + ".77"
	out := e.must("run", "--rm", "--network", "fixed", "--ip", ip, "--mac-address", "02:42:de:ad:be:ef",
		"--dns", "192.0.2.53", "--dns-search", "example.test", "--dns-option", "ndots:2", "--add-host", "db.local:192.0.2.10",
		"--hostname", "box", "--rootfs", e.rootfs, "sh", "-c", "ip addr show eth0; cat /etc/resolv.conf /etc/hosts /etc/hostname")
	for _, want := range []string{"inet " + ip + "/24", "link/ether 02:42:de:ad:be:ef", "mtu 1300", "nameserver 192.0.2.53\n",
		"search example.test\n", "options ndots:2\n", "192.0.2.10\tdb.local\n", ip + "\tbox\n", "127.0.0.1\tlocalhost\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("container output lacks %q:\n%s", want, out)
		}
	}
	// Without --dns: the host's resolvers minus loopback ones.
	out = e.must("run", "--rm", "--rootfs", e.rootfs, "cat", "/etc/resolv.conf")
	if strings.Contains(out, "nameserver 127.") || !strings.Contains(out, "nameserver ") {
		t.Errorf("derived resolv.conf: %q", out)
	}
	// --network host keeps the host's own files.
	host, _ := os.ReadFile("/etc/resolv.conf")
	if out := e.must("run", "--rm", "--network", "host", "--rootfs", e.rootfs, "cat", "/etc/resolv.conf"); out != string(host) {
		t.Errorf("--network host resolv.conf: %q, want the host's %q", out, host)
	}
	// An address in use, or outside the subnet, fails the run clearly.
	e.httpd("holder", "--network", "fixed", "--ip", ip)
	if r := e.tincan("run", "--rm", "--network", "fixed", "--ip", ip, "--rootfs", e.rootfs, "true"); r.code != 125 || !strings.Contains(r.stderr, "already in use") {
		t.Errorf("--ip of a running container: %+v", r)
	}
	if r := e.tincan("run", "--rm", "--network", "fixed", "--ip", "192.0.2.1", "--rootfs", e.rootfs, "true"); r.code != 125 || !strings.Contains(r.stderr, "192.0.2.1") {
		t.Errorf("--ip outside the subnet: %+v", r)
	}
}

func TestContainerNetworkMode(t *testing.T) {
	e := newEnv(t)
	e.httpd("main")
	ip := e.inspect("main").IPAddress
	out := e.must("run", "--rm", "--network", "container:main", "--rootfs", e.rootfs, "sh", "-c", "ip -4 addr show eth0; probe get http://127.0.0.1/")
	if !strings.Contains(out, "inet "+ip+"/") || !strings.Contains(out, "hello from tincan") {
		t.Errorf("--network container:main: %q, want %s and main's server on localhost", out, ip)
	}
	if r := e.tincan("run", "--rm", "--network", "container:nosuch", "--rootfs", e.rootfs, "true"); r.code != 125 || !strings.Contains(r.stderr, "nosuch") {
		t.Errorf("--network container:nosuch: %+v", r)
	}
}

func TestBadNetworkInputLeavesNothing(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{
		{"run", "-p", "70000:80", "--rootfs", e.rootfs, "true"},
		{"run", "-p", "80/sctp", "--rootfs", e.rootfs, "true"},
		{"run", "-p", "1.2.3:80:80", "--rootfs", e.rootfs, "true"},
		{"run", "--network", "nosuch", "--rootfs", e.rootfs, "true"},
		{"run", "--network", "none", "-p", "80", "--rootfs", e.rootfs, "true"},
		{"run", "--network", "host", "--ip", "10.1.1.1", "--rootfs", e.rootfs, "true"},
		{"run", "--network-alias", "x", "--rootfs", e.rootfs, "true"},
		{"run", "--ip", "not-an-ip", "--rootfs", e.rootfs, "true"},
		{"run", "--dns", "nameserver", "--rootfs", e.rootfs, "true"},
		{"run", "--add-host", "nocolon", "--rootfs", e.rootfs, "true"},
		{"network", "create", "../x"},
		{"network", "create", "--subnet", "10.0.0.0/33", "bad"},
		{"network", "create", "bridge"},
		{"network", "rm", "nosuch"},
		{"network", "rm", "bridge"},
		{"network", "inspect", "nosuch"},
		{"network", "connect", "nosuch", "nobody"},
		{"port", "nobody"},
	} {
		r := e.tincan(args...)
		if r.code == 0 || r.stderr == "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("%v: exit %d stderr %q, want a failure with a one-line error", args, r.code, r.stderr)
		}
	}
	if out := e.must("ps", "-aq"); out != "" {
		t.Errorf("bad input left containers: %q", out)
	}
	if out := e.must("network", "ls", "-q"); len(strings.Fields(out)) != 1 {
		t.Errorf("bad input left networks: %q", out)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.run, "netns")); len(entries) > 0 {
		t.Errorf("bad input left namespace files: %v", entries)
	}
}

// crash SIGKILLs a container's monitor and init, so nothing tears its
// network down, and checks that something is left to sweep.
func (e *env) crash(name string) string {
	e.t.Helper()
	id := e.httpd(name, "-p", "80")
	var rec struct {
		Pid        int `json:"pid"`
		MonitorPid int `json:"monitorPid"`
	}
	data, err := os.ReadFile(filepath.Join(e.data, "containers", id, "record.json"))
	if err != nil {
		e.t.Fatal(err)
	}
	if err := jsonUnmarshal(data, &rec); err != nil || rec.MonitorPid == 0 || rec.Pid == 0 {
		e.t.Fatalf("record: %v %+v", err, rec)
	}
	// Ours: the pids come from the container record this test made.
	mustKill(e.t, rec.MonitorPid)
	mustKill(e.t, rec.Pid)
	if left := e.leftovers(id); len(left) == 0 {
		e.t.Fatalf("a killed monitor left nothing to sweep: the test proves nothing")
	}
	return id
}

// A monitor killed with SIGKILL cannot tear its network down: the next
// run's sweep, or network prune, does.
func TestCrashLeftoversAreSwept(t *testing.T) {
	e := newEnv(t)
	id := e.crash("crash1")
	e.must("run", "--rm", "--rootfs", e.rootfs, "true")
	if left := e.leftovers(id); len(left) > 0 {
		t.Errorf("left after the next run: %v", left)
	}
	id = e.crash("crash2")
	out := e.must("network", "prune")
	if !strings.Contains(out, "sandbox "+id) {
		t.Errorf("network prune: %q, want the dead sandbox", out)
	}
	if left := e.leftovers(id); len(left) > 0 {
		t.Errorf("left after network prune: %v", left)
	}
	if slices.Contains(strings.Fields(e.must("network", "ls")), e.bridgeName()) && linkExists(e.bridgeName()) {
		t.Errorf("the default bridge stays with no container on it")
	}
}
