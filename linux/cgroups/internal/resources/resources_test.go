package resources

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

func TestValidate(t *testing.T) {
	valid := []string{
		`{}`,
		`{"memory":{"limit":67108864,"reservation":33554432,"swap":134217728,"swappiness":60,"kernel":-1}}`,
		`{"memory":{"limit":-1,"swap":-1}}`,
		`{"memory":{"limit":0,"swap":0}}`,
		`{"cpu":{"shares":1024,"quota":50000,"period":100000,"burst":10000,"cpus":"0-3,7","mems":"0","idle":1}}`,
		`{"cpu":{"quota":-1,"realtimeRuntime":950000,"realtimePeriod":1000000}}`,
		`{"pids":{"limit":0}}`,
		`{"pids":{"limit":-1}}`,
		`{"blockIO":{"weight":10,"leafWeight":1000,"weightDevice":[{"major":8,"minor":0,"leafWeight":300}],"throttleReadBpsDevice":[{"major":8,"minor":0,"rate":0}]}}`,
		`{"hugepageLimits":[{"pageSize":"2MB","limit":1},{"pageSize":"64KB","limit":2},{"pageSize":"1GB","limit":3}]}`,
		`{"network":{"classID":1048577,"priorities":[{"name":"eth0","priority":500}]}}`,
		`{"rdma":{"mlx5_1":{"hcaHandles":3}}}`,
		`{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"c","major":10,"minor":229,"access":"rw"},{"allow":true,"type":"b","major":-1,"access":"m"}]}`,
		`{"unified":{"memory.high":"1000000","io.max":"8:0 rbps=1\n8:16 wbps=2","cgroup.max.depth":"3"}}`,
	}
	for _, in := range valid {
		if err := Validate(parse(t, in)); err != nil {
			t.Errorf("Validate(%s) = %v, want nil", in, err)
		}
	}
	invalid := []struct{ in, field string }{
		{`{"memory":{"limit":-2}}`, "memory.limit"},
		{`{"memory":{"swap":-5}}`, "memory.swap"},
		{`{"memory":{"swappiness":101}}`, "memory.swappiness"},
		{`{"memory":{"limit":1000000,"swap":999999}}`, "memory.swap"},
		{`{"memory":{"limit":-1,"swap":1000000}}`, "memory.swap"},
		{`{"cpu":{"quota":999}}`, "cpu.quota"},
		{`{"cpu":{"quota":-2}}`, "cpu.quota"},
		{`{"cpu":{"period":999}}`, "cpu.period"},
		{`{"cpu":{"period":1000001}}`, "cpu.period"},
		{`{"cpu":{"shares":1}}`, "cpu.shares"},
		{`{"cpu":{"shares":262145}}`, "cpu.shares"},
		{`{"cpu":{"quota":5000,"burst":5001}}`, "cpu.burst"},
		{`{"cpu":{"realtimeRuntime":2000,"realtimePeriod":1000}}`, "cpu.realtimeRuntime"},
		{`{"cpu":{"cpus":"0-"}}`, "cpu.cpus"},
		{`{"cpu":{"mems":"3-1"}}`, "cpu.mems"},
		{`{"cpu":{"idle":2}}`, "cpu.idle"},
		{`{"pids":{"limit":-2}}`, "pids.limit"},
		{`{"blockIO":{"weight":9}}`, "blockIO.weight"},
		{`{"blockIO":{"leafWeight":1001}}`, "blockIO.leafWeight"},
		{`{"blockIO":{"weightDevice":[{"major":8,"minor":0}]}}`, "blockIO.weightDevice[0]"},
		{`{"blockIO":{"weightDevice":[{"major":8,"minor":0,"weight":5}]}}`, "blockIO.weightDevice[0].weight"},
		{`{"blockIO":{"throttleWriteIOPSDevice":[{"major":-1,"minor":0,"rate":1}]}}`, "blockIO.throttleWriteIOPSDevice[0]"},
		{`{"hugepageLimits":[{"pageSize":"2M","limit":1}]}`, "hugepageLimits[0].pageSize"},
		{`{"hugepageLimits":[{"pageSize":"0MB","limit":1}]}`, "hugepageLimits[0].pageSize"},
		{`{"network":{"priorities":[{"name":"","priority":1}]}}`, "network.priorities[0].name"},
		{`{"rdma":{"mlx5_1":{}}}`, "rdma.mlx5_1"},
		{`{"devices":[{"allow":true,"type":"x"}]}`, "devices[0].type"},
		{`{"devices":[{"allow":true,"type":"c","access":"rwx"}]}`, "devices[0].access"},
		{`{"devices":[{"allow":true},{"allow":true,"type":"c","major":-2}]}`, "devices[1].major"},
		{`{"unified":{"memory/../x":"1"}}`, `unified["memory/../x"]`},
		{`{"unified":{"nodot":"1"}}`, `unified["nodot"]`},
		{`{"unified":{"cgroup.procs":"1"}}`, `unified["cgroup.procs"]`},
		{`{"unified":{"cgroup.kill":"1"}}`, `unified["cgroup.kill"]`},
	}
	for _, tt := range invalid {
		err := Validate(parse(t, tt.in))
		if !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "linux.resources."+tt.field+":") {
			t.Errorf("Validate(%s) = %v; want an invalid-argument error naming linux.resources.%s", tt.in, err, tt.field)
		}
	}
}

func parse(t *testing.T, in string) *specs.LinuxResources {
	t.Helper()
	var r specs.LinuxResources
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatalf("%s: %v", in, err)
	}
	return &r
}

func TestConversions(t *testing.T) {
	for shares, want := range map[uint64]uint64{0: 1, 2: 1, 1024: 39, 262144: 10000} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
	for weight, want := range map[uint16]uint64{10: 1, 100: 910, 500: 4950, 1000: 10000} {
		if got := BlkioToIOWeight(weight); got != want {
			t.Errorf("BlkioToIOWeight(%d) = %d, want %d", weight, got, want)
		}
	}
	for _, tt := range []struct {
		limit, swap int64
		want        string
	}{
		{100, 300, "200"}, {100, 100, "0"}, {100, -1, "max"}, {-1, -1, "max"},
	} {
		if got, err := SwapToV2(tt.limit, tt.swap); err != nil || got != tt.want {
			t.Errorf("SwapToV2(%d, %d) = %q, %v; want %q", tt.limit, tt.swap, got, err, tt.want)
		}
	}
	for _, tt := range [][2]int64{{100, 99}, {-1, 100}} {
		if _, err := SwapToV2(tt[0], tt[1]); err == nil {
			t.Errorf("SwapToV2(%d, %d) succeeded", tt[0], tt[1])
		}
	}
	if Limit(-1) != "max" || Limit(0) != "0" || Limit(42) != "42" {
		t.Error("Limit does not map -1 to max and keep numbers")
	}
}

func TestParseRules(t *testing.T) {
	var r specs.LinuxResources
	if err := json.Unmarshal([]byte(`{"devices":[
		{"allow":false,"access":"rwm"},
		{"allow":true,"type":"c","major":1,"minor":3,"access":"rw"},
		{"allow":true,"type":"b","minor":5},
		{"allow":true,"type":"a","major":4,"access":"r"}
	]}`), &r); err != nil {
		t.Fatal(err)
	}
	rules, err := ParseRules(r.Devices)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rule := range rules {
		got = append(got, rule.String())
	}
	// 'a' rules concern every device, whatever else they say (as v1 does).
	want := []string{"a *:* rwm", "c 1:3 rw", "b *:5 rwm", "a *:* rwm"}
	if !slices.Equal(got, want) || rules[0].Allow || !rules[3].Allow {
		t.Errorf("ParseRules = %v (allow %v %v), want %v", got, rules[0].Allow, rules[3].Allow, want)
	}
}

func TestPageSizes(t *testing.T) {
	for name, bytes := range map[string]uint64{"64KB": 64 << 10, "2MB": 2 << 20, "1GB": 1 << 30, "16GB": 16 << 30} {
		if got, err := ParsePageSize(name); err != nil || got != bytes {
			t.Errorf("ParsePageSize(%q) = %d, %v; want %d", name, got, err, bytes)
		}
		if got := PageSizeName(bytes); got != name {
			t.Errorf("PageSizeName(%d) = %q, want %q", bytes, got, name)
		}
	}
	for _, bad := range []string{"", "B", "2M", "2XB", "-2MB", "MB", "0KB"} {
		if _, err := ParsePageSize(bad); err == nil {
			t.Errorf("ParsePageSize(%q) succeeded", bad)
		}
	}
	for _, size := range PageSizes() {
		if _, err := ParsePageSize(size); err != nil {
			t.Errorf("the kernel's page size %q does not parse: %v", size, err)
		}
	}
}

func TestParseList(t *testing.T) {
	for in, want := range map[string][]uint16{"": nil, "0": {0}, "0-3,7": {0, 1, 2, 3, 7}, " 1-2\n": {1, 2}} {
		got, err := ParseList(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseList(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{",", "a", "1-", "-1", "3-1", "1,,2", "70000"} {
		if _, err := ParseList(bad); err == nil {
			t.Errorf("ParseList(%q) succeeded", bad)
		}
	}
}

func FuzzParseList(f *testing.F) {
	for _, s := range []string{"0-3,7", "1", "", "5-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseList(s)
		if err != nil || len(list) > 1<<16 {
			return
		}
		// What parses, written back one number at a time, parses the same.
		var parts []string
		for _, n := range list {
			parts = append(parts, strconv.Itoa(int(n)))
		}
		again, err := ParseList(strings.Join(parts, ","))
		if err != nil || !slices.Equal(again, list) {
			t.Errorf("ParseList(%q) = %v, but its numbers written out give %v, %v", s, list, again, err)
		}
	})
}
