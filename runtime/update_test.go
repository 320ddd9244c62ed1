package runtime

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{
		"-1": -1, "0": 0, "1024": 1024, "1k": 1024, "1K": 1024, "1kb": 1024, "1KiB": 1024,
		"100m": 100 << 20, "1.5g": 3 << 29, "2G": 2 << 30, "1t": 1 << 40, "512b": 512,
	} {
		if got, err := ParseMemory(in); err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "k", "lots", "-2", "1x", "1e30g", "--1"} {
		if _, err := ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q) succeeded", bad)
		}
	}
}

func TestUpdateFlags(t *testing.T) {
	r, err := UpdateFlags{Memory: "100m", MemorySwap: "-1", CPUQuota: "20000", CPUShares: "512", CpusetCpus: "0-1",
		PidsLimit: "-1", BlkioWeight: "300"}.Resources()
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(r)
	want := `{"memory":{"limit":104857600,"swap":-1},"cpu":{"shares":512,"quota":20000,"cpus":"0-1"},"pids":{"limit":-1},"blockIO":{"weight":300}}`
	if string(got) != want {
		t.Errorf("Resources() = %s, want %s", got, want)
	}
	if r, err := (UpdateFlags{}).Resources(); r != nil || err != nil {
		t.Errorf("no flags: %v, %v; want nothing", r, err)
	}
	for _, f := range []UpdateFlags{{CPUQuota: "x"}, {Memory: "1q"}, {BlkioWeight: "70000"}, {CPUPeriod: "-5"}} {
		if _, err := f.Resources(); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: %v, want an invalid-argument error", f, err)
		}
	}
}

func TestMergeResources(t *testing.T) {
	old := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: resPtr(int64(100)), Swap: resPtr(int64(300)), Swappiness: resPtr(uint64(10))},
		CPU:     &specs.LinuxCPU{Shares: resPtr(uint64(512)), Cpus: "0"},
		Unified: map[string]string{"memory.high": "1", "io.weight": "50"},
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	update := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: resPtr(int64(200))},
		CPU:     &specs.LinuxCPU{Quota: resPtr(int64(5000)), Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: resPtr(int64(9))},
		Unified: map[string]string{"memory.high": "2"},
	}
	got, _ := json.Marshal(mergeResources(old, update))
	want := `{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":200,"swap":300,"swappiness":10},` +
		`"cpu":{"shares":512,"quota":5000,"cpus":"0","mems":"0"},"pids":{"limit":9},"unified":{"io.weight":"50","memory.high":"2"}}`
	if string(got) != want {
		t.Errorf("mergeResources = %s\nwant %s", got, want)
	}
	if old.Memory.Limit == nil || *old.Memory.Limit != 100 || old.Unified["memory.high"] != "1" {
		t.Error("mergeResources changed the old resources")
	}
}

func TestKeepSwapTotal(t *testing.T) {
	merged := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: resPtr(int64(200)), Swap: resPtr(int64(300))}}
	r, err := keepSwapTotal(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: resPtr(int64(200))}}, merged)
	if err != nil || r.Memory.Swap == nil || *r.Memory.Swap != 300 {
		t.Errorf("an update of the limit alone: %+v, %v; want the configured swap total added", r.Memory, err)
	}
	merged.Memory.Limit = resPtr(int64(400))
	_, err = keepSwapTotal(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: resPtr(int64(400))}}, merged)
	if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "memory.limit") {
		t.Errorf("a limit above the swap total: %v; want an error naming memory.limit", err)
	}
	plain := &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: resPtr(int64(1))}}
	if r, err := keepSwapTotal(plain, merged); r != plain || err != nil {
		t.Error("an update without a memory limit was changed")
	}
}

func TestContainerResourcesDevices(t *testing.T) {
	major, minor := int64(1), int64(5)
	s := &specs.Spec{Linux: &specs.Linux{
		Resources: &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{
			{Allow: false, Access: "rwm"},
			{Allow: false, Type: "c", Major: &major, Minor: &minor, Access: "rwm"},
		}},
		Devices: []specs.LinuxDevice{{Path: "/dev/fuse", Type: "c", Major: 10, Minor: 229}, {Path: "/dev/fifo", Type: "p"}},
	}}
	r := containerResources(s, true)
	var rules []string
	for _, d := range r.Devices {
		rule := "-" + d.Type
		if d.Allow {
			rule = "+" + d.Type
		}
		for _, n := range []*int64{d.Major, d.Minor} {
			if n == nil {
				rule += " *"
			} else {
				rule += " " + strconv.FormatInt(*n, 10)
			}
		}
		rules = append(rules, rule+" "+d.Access)
	}
	text := strings.Join(rules, ",")
	// The config's rules first and in order, then what every container
	// needs, without the device the config denies (1:5) or the fifo.
	if !strings.HasPrefix(text, "- * * rwm,-c 1 5 rwm,+c * * m,+b * * m,") ||
		!strings.Contains(text, "+c 1 3 rwm") || !strings.Contains(text, "+c 136 * rwm") || !strings.Contains(text, "+c 10 229 rwm") ||
		strings.Contains(text, "+c 1 5 rwm") || strings.Contains(text, "p ") {
		t.Errorf("device rules %s", text)
	}
	if len(s.Linux.Resources.Devices) != 2 {
		t.Error("containerResources changed the config's rules")
	}
	if r := containerResources(&specs.Spec{Linux: &specs.Linux{}}, false); r != nil {
		t.Errorf("a joined cgroup without resources gets %+v", r)
	}
	if r := containerResources(s, false); len(r.Devices) != 2 {
		t.Errorf("a joined cgroup gets the default device rules: %+v", r.Devices)
	}
}

func TestFilterPsTable(t *testing.T) {
	out := []byte("UID   PID  PPID CMD\nroot    1     0 init\nroot   42     1 sleep 42\nroot  420     1 other\n")
	got, err := filterPsTable(out, []int{42})
	if err != nil || string(got) != "UID   PID  PPID CMD\nroot   42     1 sleep 42\n" {
		t.Errorf("filterPsTable = %q, %v", got, err)
	}
	if _, err := filterPsTable([]byte("USER COMMAND\nroot init\n"), []int{1}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("a table without PID: %v", err)
	}
}

func resPtr[T any](v T) *T { return &v }
