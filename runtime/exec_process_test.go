package runtime

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

func TestMergeEnv(t *testing.T) {
	for _, tc := range []struct {
		env, add, want []string
	}{
		{[]string{"A=1", "B=2"}, nil, []string{"A=1", "B=2"}},
		{[]string{"A=1", "B=2"}, []string{"B=3", "C=4"}, []string{"A=1", "B=3", "C=4"}},
		// A duplicate in the template: the first one is replaced, as the
		// one getenv finds.
		{[]string{"A=1", "A=2"}, []string{"A=3"}, []string{"A=3", "A=2"}},
		{nil, []string{"X=y", "X=z"}, []string{"X=z"}},
		{[]string{"NOVALUE"}, []string{"NOVALUE=set"}, []string{"NOVALUE=set"}},
	} {
		if got := mergeEnv(tc.env, tc.add); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("mergeEnv(%q, %q) = %q, want %q", tc.env, tc.add, got, tc.want)
		}
	}
}

func TestProcessFromFlags(t *testing.T) {
	template := &specs.Process{
		Args: []string{"sleep", "1"},
		Env:  []string{"PATH=/bin", "A=1"},
		Cwd:  "/work",
		User: specs.User{UID: 5, GID: 6, AdditionalGids: []uint32{7}},
		Capabilities: &specs.LinuxCapabilities{
			Bounding: []string{"CAP_KILL"}, Effective: []string{"CAP_KILL"}, Permitted: []string{"CAP_KILL"},
		},
		NoNewPrivileges: true,
		ConsoleSize:     &specs.Box{Height: 1, Width: 2},
	}
	before := copyProcess(template)
	no := false
	p, err := processFromFlags(&ExecProcessFlags{
		Args:           []string{"sh", "-c", "true"},
		Terminal:       true,
		Env:            []string{"A=2", "B=3"},
		User:           "1000:1001",
		AdditionalGids: []string{"20"},
		Caps:           []string{"CAP_NET_ADMIN"},
		NoNewPrivs:     &no,
	}, template)
	if err != nil {
		t.Fatal(err)
	}
	want := &specs.Process{
		Args:     []string{"sh", "-c", "true"},
		Terminal: true,
		Env:      []string{"PATH=/bin", "A=2", "B=3"},
		Cwd:      "/work",
		User:     specs.User{UID: 1000, GID: 1001, AdditionalGids: []uint32{7, 20}},
		Capabilities: &specs.LinuxCapabilities{
			Bounding:  []string{"CAP_KILL", "CAP_NET_ADMIN"},
			Effective: []string{"CAP_KILL", "CAP_NET_ADMIN"},
			Permitted: []string{"CAP_KILL", "CAP_NET_ADMIN"},
		},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("process from flags:\n%+v\nwant\n%+v", p, want)
	}
	if after := copyProcess(template); !reflect.DeepEqual(after, before) {
		t.Errorf("the container's process was changed: %+v", template)
	}

	// Only the uid: the gid stays; no flags at all keep the template.
	p, err = processFromFlags(&ExecProcessFlags{Args: []string{"id"}, User: "42"}, template)
	if err != nil || p.User.UID != 42 || p.User.GID != 6 || !p.NoNewPrivileges || p.Terminal || p.ConsoleSize != nil {
		t.Errorf("--user 42: %+v, %v", p, err)
	}
	// A container without a process: the defaults.
	p, err = processFromFlags(&ExecProcessFlags{Args: []string{"id"}}, nil)
	if err != nil || p.Cwd != "/" || p.User.UID != 0 {
		t.Errorf("no template: %+v, %v", p, err)
	}
	// Inheritable capabilities in the template: --cap is ambient too.
	template.Capabilities.Inheritable = []string{"CAP_KILL"}
	p, _ = processFromFlags(&ExecProcessFlags{Args: []string{"id"}, Caps: []string{"CAP_CHOWN"}}, template)
	if !reflect.DeepEqual(p.Capabilities.Ambient, []string{"CAP_CHOWN"}) {
		t.Errorf("ambient with inheritable capabilities: %v", p.Capabilities.Ambient)
	}
}

func TestProcessFromFlagsErrors(t *testing.T) {
	for _, f := range []ExecProcessFlags{
		{},
		{Args: []string{"id"}, User: "root"},
		{Args: []string{"id"}, User: "1:group"},
		{Args: []string{"id"}, User: "-1"},
		{Args: []string{"id"}, AdditionalGids: []string{"wheel"}},
	} {
		if _, err := processFromFlags(&f, nil); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%+v: error %v, want an invalid argument", f, err)
		}
	}
}

func TestCheckExecProcess(t *testing.T) {
	ok := specs.Process{Args: []string{"true"}, Cwd: "/"}
	if err := checkExecProcess(&ok, quietLogger{}); err != nil {
		t.Errorf("a plain process: %v", err)
	}
	ok.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 3}
	ok.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 4}
	ok.ExecCPUAffinity = &specs.CPUAffinity{Initial: "0", Final: "0"}
	if err := checkExecProcess(&ok, quietLogger{}); err != nil {
		t.Errorf("scheduler, I/O priority and affinity: %v", err)
	}
	for name, p := range map[string]specs.Process{
		"no args":         {Cwd: "/"},
		"no cwd":          {Args: []string{"true"}},
		"relative cwd":    {Args: []string{"true"}, Cwd: "tmp"},
		"bad capability":  {Args: []string{"true"}, Cwd: "/", Capabilities: &specs.LinuxCapabilities{Bounding: []string{"CAP_NONSENSE"}}},
		"bad rlimit":      {Args: []string{"true"}, Cwd: "/", Rlimits: []specs.POSIXRlimit{{Type: "RLIMIT_NONSENSE"}}},
		"bad scheduler":   {Args: []string{"true"}, Cwd: "/", Scheduler: &specs.Scheduler{Policy: "SCHED_NONSENSE"}},
		"bad affinity":    {Args: []string{"true"}, Cwd: "/", ExecCPUAffinity: &specs.CPUAffinity{Final: "0-x"}},
		"bad apparmor":    {Args: []string{"true"}, Cwd: "/", ApparmorProfile: "a/b c"},
		"selinux missing": {Args: []string{"true"}, Cwd: "/", SelinuxLabel: "system_u:system_r:container_t:s0"},
	} {
		if err := checkExecProcess(&p, quietLogger{}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoadExecProcess(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"args": ["ls"], "cwd": "/", "terminal": true, "user": {"uid": 3}}`), 0o644)
	p, err := loadExecProcess(good)
	if err != nil || p.Args[0] != "ls" || !p.Terminal || p.User.UID != 3 {
		t.Errorf("loadExecProcess: %+v, %v", p, err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"args": "ls"}`), 0o644)
	for _, f := range []string{bad, filepath.Join(dir, "missing.json")} {
		if _, err := loadExecProcess(f); !errdefs.IsInvalidArgument(err) {
			t.Errorf("%s: error %v, want an invalid argument", f, err)
		}
	}
}

func TestSubCgroup(t *testing.T) {
	for _, tc := range []struct{ sub, want string }{
		{"", "/tincan/c"}, {"/", "/tincan/c"}, {"/a", "/tincan/c/a"}, {"/a/b", "/tincan/c/a/b"},
	} {
		if got := subCgroup("/tincan/c", tc.sub); got != tc.want {
			t.Errorf("subCgroup(%q) = %q, want %q", tc.sub, got, tc.want)
		}
	}
	if _, err := execPlacement(&State{}, []string{"sub"}); !errdefs.IsInvalidArgument(err) {
		t.Errorf("--cgroup for a container without a cgroup: %v", err)
	}
	if place, err := execPlacement(&State{}, nil); place != nil || err != nil {
		t.Errorf("no cgroup, no --cgroup: %v, %v", place != nil, err)
	}
}

// copyProcess copies the parts of a process processFromFlags could change
// in place, to check that it does not.
func copyProcess(p *specs.Process) specs.Process {
	c := *p
	c.Args = append([]string(nil), p.Args...)
	c.Env = append([]string(nil), p.Env...)
	c.User.AdditionalGids = append([]uint32(nil), p.User.AdditionalGids...)
	if p.Capabilities != nil {
		caps := *p.Capabilities
		caps.Bounding = append([]string(nil), caps.Bounding...)
		caps.Effective = append([]string(nil), caps.Effective...)
		caps.Permitted = append([]string(nil), caps.Permitted...)
		c.Capabilities = &caps
	}
	return c
}
