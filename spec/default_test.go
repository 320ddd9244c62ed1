package spec

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func rootlessDefault(uid, gid int) *specs.Spec {
	s := Default()
	Rootless(s, uid, gid)
	return s
}

func TestDefaultAndRootlessAreValid(t *testing.T) {
	for name, s := range map[string]*specs.Spec{
		"default":  Default(),
		"rootless": rootlessDefault(1000, 1000),
	} {
		t.Run(name, func(t *testing.T) {
			bundle := newBundle(t)
			warnings, err := Validate(s, bundle)
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if len(warnings) != 0 {
				t.Errorf("warnings: %q", warnings)
			}
		})
	}
}

func TestDefaultRoundTrip(t *testing.T) {
	for name, s := range map[string]*specs.Spec{
		"default":  Default(),
		"rootless": rootlessDefault(1000, 1000),
	} {
		t.Run(name, func(t *testing.T) {
			data, err := json.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			got := new(specs.Spec)
			if err := json.Unmarshal(data, got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, s) {
				t.Errorf("round trip changed the spec:\n got %+v\nwant %+v", got, s)
			}
		})
	}
}

func TestDefaultReturnsFreshCopies(t *testing.T) {
	first := Default()
	first.Process.Capabilities.Bounding[0] = "CAP_SYS_ADMIN"
	first.Mounts[0].Destination = "/changed"
	second := Default()
	if second.Process.Capabilities.Bounding[0] != "CAP_AUDIT_WRITE" ||
		second.Process.Capabilities.Effective[0] != "CAP_AUDIT_WRITE" ||
		second.Mounts[0].Destination != "/proc" {
		t.Error("changing one Default() changed another")
	}
}

func TestRootless(t *testing.T) {
	s := rootlessDefault(1234, 5678)
	var types []specs.LinuxNamespaceType
	for _, ns := range s.Linux.Namespaces {
		types = append(types, ns.Type)
	}
	wantTypes := []specs.LinuxNamespaceType{"pid", "ipc", "uts", "mount", "user"}
	if !slices.Equal(types, wantTypes) {
		t.Errorf("namespaces = %v, want %v", types, wantTypes)
	}
	wantUID := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1234, Size: 1}}
	wantGID := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 5678, Size: 1}}
	if !reflect.DeepEqual(s.Linux.UIDMappings, wantUID) || !reflect.DeepEqual(s.Linux.GIDMappings, wantGID) {
		t.Errorf("mappings = %v %v, want %v %v", s.Linux.UIDMappings, s.Linux.GIDMappings, wantUID, wantGID)
	}
	if s.Linux.Resources != nil {
		t.Error("linux.resources kept")
	}
	wantSys := specs.Mount{Destination: "/sys", Type: "none", Source: "/sys",
		Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
	if !reflect.DeepEqual(s.Mounts[5], wantSys) {
		t.Errorf("/sys mount = %+v, want %+v", s.Mounts[5], wantSys)
	}
	for _, m := range s.Mounts {
		for _, o := range m.Options {
			if o == "gid=5" {
				t.Errorf("mount %s keeps %s", m.Destination, o)
			}
		}
	}
	if s.Mounts[6].Destination != "/sys/fs/cgroup" {
		t.Errorf("mounts[6] = %s, want /sys/fs/cgroup (runc keeps it)", s.Mounts[6].Destination)
	}
}

func TestRootlessWithoutLinux(t *testing.T) {
	s := &specs.Spec{}
	Rootless(s, 1, 2)
	if s.Linux == nil || len(s.Linux.Namespaces) != 1 || s.Linux.Namespaces[0].Type != specs.UserNamespace {
		t.Errorf("Rootless on an empty spec gave %+v", s.Linux)
	}
}

// TestDefaultMatchesRunc compares Default and Rootless with what the
// installed runc writes, member by member. ociVersion differs on purpose:
// ours is the runtime-spec version tincan is built against.
func TestDefaultMatchesRunc(t *testing.T) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed, nothing to compare with")
	}
	cases := []struct {
		name string
		args []string
		ours *specs.Spec
	}{
		{"default", nil, Default()},
		{"rootless", []string{"--rootless"}, rootlessDefault(os.Geteuid(), os.Getegid())},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(runc, append([]string{"spec", "--bundle", dir}, tc.args...)...)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("runc spec: %v: %s", err, out)
			}
			theirs := readJSON(t, filepath.Join(dir, ConfigFile))
			data, err := json.Marshal(tc.ours)
			if err != nil {
				t.Fatal(err)
			}
			var ours any
			if err := json.Unmarshal(data, &ours); err != nil {
				t.Fatal(err)
			}
			delete(theirs.(map[string]any), "ociVersion")
			delete(ours.(map[string]any), "ociVersion")
			for _, d := range diffJSON("", ours, theirs) {
				t.Error(d)
			}
		})
	}
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// diffJSON lists where two decoded JSON documents differ.
func diffJSON(path string, ours, theirs any) []string {
	switch o := ours.(type) {
	case map[string]any:
		th, ok := theirs.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: ours is an object, runc's is %v", path, theirs)}
		}
		keys := make([]string, 0, len(o)+len(th))
		for k := range o {
			keys = append(keys, k)
		}
		for k := range th {
			if _, dup := o[k]; !dup {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var diffs []string
		for _, k := range keys {
			diffs = append(diffs, diffJSON(member(path, k), o[k], th[k])...)
		}
		return diffs
	case []any:
		th, ok := theirs.([]any)
		if !ok || len(th) != len(o) {
			return []string{fmt.Sprintf("%s: ours is %v, runc's is %v", path, ours, theirs)}
		}
		var diffs []string
		for i := range o {
			diffs = append(diffs, diffJSON(elem(path, i), o[i], th[i])...)
		}
		return diffs
	default:
		if !reflect.DeepEqual(ours, theirs) {
			return []string{fmt.Sprintf("%s: ours is %v, runc's is %v", path, ours, theirs)}
		}
		return nil
	}
}
