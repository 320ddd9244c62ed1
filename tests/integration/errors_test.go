package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

func TestBadContainerIDs(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "true")
	r := testutil.NewRuntime(t)
	before := testutil.TakeSnapshot(t)
	long := strings.Repeat("x", 300)
	for _, id := range []string{"../x", "a/b", "", long, ".hidden", "..", ".", "a b", "x\ny"} {
		res := ociExec(t, r, nil, "create", "--bundle", b.Dir, id)
		expectFailure(t, res)
		if res.Code == 0 {
			r.Exec(t, "delete", "--force", id)
		}
		for _, verb := range []string{"state", "start", "kill", "delete"} {
			expectFailure(t, r.Exec(t, verb, id))
		}
	}
	entries, _ := os.ReadDir(r.Root)
	for _, e := range entries {
		t.Errorf("bad ids left %s in the runtime root", e.Name())
	}
	if exists(filepath.Join(filepath.Dir(r.Root), "x")) {
		t.Errorf("create ../x made %s", filepath.Join(filepath.Dir(r.Root), "x"))
	}
	if leaks := testutil.Leaks(before, testutil.TakeSnapshot(t), "/x", "a/b", long, ".hidden"); len(leaks) > 0 {
		t.Errorf("bad ids left %v", leaks)
	}
	// The longest valid id is accepted.
	max := strings.Repeat("y", 255)
	if res := ociExec(t, r, nil, "create", "--bundle", b.Dir, max); res.Code != 0 {
		t.Errorf("create with a 255-byte id: %s", res.Stderr)
	} else {
		r.MustExec(t, "delete", "--force", max)
	}
}

// failCase is a create that must fail, with what its message must say.
type failCase struct {
	name string
	// edit changes the bundle before create.
	edit func(t *testing.T, b *testutil.Bundle)
	// want are substrings of the one-line error; wantRe, if set, a pattern.
	want   []string
	wantRe string
}

// runFailCases creates each case's bundle with tincan-oci, expecting the
// runc error contract and that nothing is left behind.
func runFailCases(t *testing.T, cases []failCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := testutil.NewBundle(t, "true")
			tc.edit(t, b)
			r := testutil.NewRuntime(t)
			id := newID(t)
			before := testutil.TakeSnapshot(t)
			res := ociExec(t, r, nil, "create", "--bundle", b.Dir, id)
			if res.Code == 0 {
				r.Exec(t, "delete", "--force", id)
			}
			want := make([]string, len(tc.want))
			for i, w := range tc.want {
				want[i] = strings.ReplaceAll(w, "$BUNDLE", b.Dir)
			}
			t.Logf("stderr: %s", res.Stderr)
			expectFailure(t, res, want...)
			if tc.wantRe != "" && !regexp.MustCompile(tc.wantRe).MatchString(res.Stderr) {
				t.Errorf("stderr %q does not match %q", res.Stderr, tc.wantRe)
			}
			assertNothingLeft(t, r, before, id)
		})
	}
}

// rawConfig replaces config.json with data.
func rawConfig(data string) func(*testing.T, *testutil.Bundle) {
	return func(t *testing.T, b *testutil.Bundle) {
		if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// editSpec changes the spec and saves it.
func editSpec(fn func(s *specs.Spec)) func(*testing.T, *testutil.Bundle) {
	return func(t *testing.T, b *testutil.Bundle) {
		fn(b.Spec)
		b.Save(t)
	}
}

func TestInvalidConfigs(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	runFailCases(t, []failCase{
		{name: "syntax error", edit: rawConfig("{\n  \"ociVersion\": \"1.0.0\",\n  \"process\": {,\n}\n"),
			want: []string{"config.json"}, wantRe: `config\.json:3:\d+`},
		{name: "wrong type", edit: func(t *testing.T, b *testutil.Bundle) {
			data, _ := json.MarshalIndent(b.Spec, "", "  ")
			s := strings.Replace(string(data), `"hostname": "runc"`, `"hostname": 5`, 1)
			rawConfig(s)(t, b)
		}, want: []string{"config.json", "hostname"}, wantRe: `config\.json:\d+:\d+`},
		{name: "not an object", edit: rawConfig("[]"), want: []string{"config.json"}},
		{name: "empty", edit: rawConfig(""), want: []string{"config.json"}},
		{name: "missing config", edit: func(t *testing.T, b *testutil.Bundle) {
			os.Remove(filepath.Join(b.Dir, "config.json"))
		}, want: []string{"config.json"}},
		{name: "missing rootfs", edit: func(t *testing.T, b *testutil.Bundle) {
			os.RemoveAll(b.Rootfs())
		}, want: []string{"$BUNDLE/rootfs"}},
		{name: "rootfs is a file", edit: func(t *testing.T, b *testutil.Bundle) {
			os.RemoveAll(b.Rootfs())
			os.WriteFile(b.Rootfs(), nil, 0o644)
		}, want: []string{"$BUNDLE/rootfs"}},
		{name: "unknown namespace", edit: editSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
		}), want: []string{"foo"}},
		{name: "hostname without uts namespace", edit: editSpec(func(s *specs.Spec) {
			s.Linux.Namespaces = without(s.Linux.Namespaces, specs.UTSNamespace)
		}), want: []string{"uts"}},
		{name: "uid mappings without user namespace", edit: editSpec(func(s *specs.Spec) {
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
		}), want: []string{"user namespace"}},
		{name: "unknown capability", edit: editSpec(func(s *specs.Spec) {
			s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_TEST")
		}), want: []string{"CAP_TEST"}},
		{name: "unknown rlimit", edit: editSpec(func(s *specs.Spec) {
			s.Process.Rlimits = append(s.Process.Rlimits, specs.POSIXRlimit{Type: "RLIMIT_TEST", Hard: 1, Soft: 1})
		}), want: []string{"RLIMIT_TEST"}},
		{name: "relative cwd", edit: editSpec(func(s *specs.Spec) { s.Process.Cwd = "tmp" }), want: []string{"cwd"}},
		{name: "empty args", edit: editSpec(func(s *specs.Spec) { s.Process.Args = nil }), want: []string{"args"}},
		// A confinement this host cannot apply is refused, not ignored.
		{name: "apparmor profile", edit: editSpec(func(s *specs.Spec) {
			s.Process.ApparmorProfile = "tincan-test-profile"
		}), want: []string{"tincan-test-profile"}},
		{name: "terminal without console socket", edit: editSpec(func(s *specs.Spec) { s.Process.Terminal = true }),
			want: []string{"console socket"}},
		{name: "missing program", edit: editSpec(func(s *specs.Spec) { s.Process.Args = []string{"no-such-program"} }),
			want: []string{"no-such-program"}},
		{name: "missing program path", edit: editSpec(func(s *specs.Spec) { s.Process.Args = []string{"/bin/no-such-program"} }),
			want: []string{"/bin/no-such-program"}},
		{name: "program not executable", edit: func(t *testing.T, b *testutil.Bundle) {
			os.WriteFile(filepath.Join(b.Rootfs(), "notexec"), []byte("#!/bin/sh\n"), 0o644)
			editSpec(func(s *specs.Spec) { s.Process.Args = []string{"/notexec"} })(t, b)
		}, want: []string{"/notexec"}},
		{name: "missing bind source", edit: editSpec(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: "/nonexistent/tincan-src", Options: []string{"rbind"}})
		}), want: []string{"/nonexistent/tincan-src"}},
		{name: "unknown mount type", edit: editSpec(func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/data", Type: "nosuchfs", Source: "none"})
		}), want: []string{"/data"}},
		{name: "cwd is a file", edit: editSpec(func(s *specs.Spec) { s.Process.Cwd = "/bin/busybox" }), want: []string{"/bin/busybox"}},
		{name: "unknown sysctl", edit: editSpec(func(s *specs.Spec) {
			s.Linux.Sysctl = map[string]string{"kernel.no_such_sysctl": "1"}
		}), want: []string{"kernel.no_such_sysctl"}},
	})
}

func TestFailingPrestartHookUndoesCreate(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	marks := t.TempDir()
	b.Spec.Hooks = &specs.Hooks{
		//lint:ignore SA1019 prestart is deprecated but still in the runtime-spec, and engines use it
		Prestart: []specs.Hook{{Path: "/bin/false"}},
		Poststop: []specs.Hook{
			{Path: "/bin/sh", Args: []string{"sh", "-c", "cat > " + marks + "/poststop.json"}},
		},
	}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	before := testutil.TakeSnapshot(t)
	res := ociExec(t, r, nil, "create", "--bundle", b.Dir, id)
	expectFailure(t, res, "prestart")
	assertNothingLeft(t, r, before, id)
	expectFailure(t, r.Exec(t, "state", id), "does not exist")
	var st specs.State
	data, err := os.ReadFile(filepath.Join(marks, "poststop.json"))
	if err != nil {
		t.Fatalf("the poststop hook did not run after the failed create: %v", err)
	}
	if err := json.Unmarshal(data, &st); err != nil || st.ID != id {
		t.Errorf("poststop hook state %q (%v), want the container's", data, err)
	}
}

func TestErrorLogJSON(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "true")
	os.RemoveAll(b.Rootfs())
	r := testutil.NewRuntime(t)
	logFile := filepath.Join(t.TempDir(), "log.json")
	id := newID(t)
	res := ociExec(t, r, nil, "--log", logFile, "--log-format", "json", "create", "--bundle", b.Dir, id)
	expectFailure(t, res, b.Rootfs())
	data := readFile(t, logFile)
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(data), "\n") {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Errorf("log line %q is not JSON: %v", line, err)
			continue
		}
		if entry["level"] == "error" {
			msg, _ := entry["msg"].(string)
			found = strings.Contains(msg, b.Rootfs())
			if _, ok := entry["time"]; !ok {
				t.Errorf("log line %q has no time", line)
			}
		}
	}
	if !found {
		t.Errorf("log %q has no error line naming %s", data, b.Rootfs())
	}
	noStackTrace(t, data)

	// Text format to a file: runc's logrus form.
	textLog := filepath.Join(t.TempDir(), "log.txt")
	res = ociExec(t, r, nil, "--log", textLog, "create", "--bundle", b.Dir, id)
	expectFailure(t, res, b.Rootfs())
	if text := readFile(t, textLog); !strings.Contains(text, "level=error") || !strings.Contains(text, "msg=") {
		t.Errorf("text log %q, want level=error msg=...", text)
	}
	expectFailure(t, r.Exec(t, "--log-format", "xml", "list"), "xml")
}
