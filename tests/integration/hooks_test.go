package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/testutil"
)

// hookKinds in the order the runtime-spec runs them.
var hookKinds = []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}

// recordingHook is a hook that records, in dir (as the hook sees it), its
// state (name.json), environment (name.env), namespaces (name.mnt,
// name.uts), hostname, and its name appended to dir/order.
func recordingHook(name, shell, dir string) specs.Hook {
	script := `cat > "$1/$0.json"; echo "$0" >> "$1/order"; env > "$1/$0.env"; ` +
		`readlink /proc/self/ns/mnt > "$1/$0.mnt"; readlink /proc/self/ns/uts > "$1/$0.uts"; hostname > "$1/$0.hostname"`
	return specs.Hook{
		Path: shell,
		Args: []string{"sh", "-c", script, name, dir},
		Env:  []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOOK_KIND=" + name},
	}
}

func TestHooksRunInOrderWithState(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "true")
	logs := outDir(t, b, "/hooklogs")
	b.Spec.Hostname = "hooked"
	b.Spec.Annotations = map[string]string{"org.example.hook": "yes"}
	b.Spec.Hooks = &specs.Hooks{
		//lint:ignore SA1019 prestart is deprecated but still in the runtime-spec, and engines use it
		Prestart:      []specs.Hook{recordingHook("prestart", "/bin/sh", logs)},
		CreateRuntime: []specs.Hook{recordingHook("createRuntime", "/bin/sh", logs)},
		// createContainer runs in the container's namespaces but before
		// pivot_root: its path, and what it writes, are the host's.
		CreateContainer: []specs.Hook{recordingHook("createContainer", "/bin/sh", logs)},
		// startContainer runs in the container, after pivot_root: its path
		// is the container's, and it writes through the bind mount.
		StartContainer: []specs.Hook{recordingHook("startContainer", "/bin/sh", "/hooklogs")},
		Poststart:      []specs.Hook{recordingHook("poststart", "/bin/sh", logs)},
		Poststop:       []specs.Hook{recordingHook("poststop", "/bin/sh", logs)},
	}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)

	// A variable of the runtime's environment must not reach hooks.
	cmd := r.Cmd("create", "--bundle", b.Dir, id)
	cmd.Env = append(os.Environ(), "TINCAN_SENTINEL=leaked")
	res := ociExecCmd(t, cmd, nil)
	if res.Code != 0 {
		t.Fatalf("create: %s", res.Stderr)
	}
	forceDeleteAtCleanup(t, r, id)
	pid := r.State(t, id).Pid
	order := func() string { data, _ := os.ReadFile(filepath.Join(logs, "order")); return string(data) }
	if got := order(); got != "prestart\ncreateRuntime\ncreateContainer\n" {
		t.Errorf("hooks run by create: %q, want prestart, createRuntime, createContainer", got)
	}
	r.MustExec(t, "start", id)
	waitStatus(t, r, id, "stopped")
	r.MustExec(t, "delete", id)
	// runc 1.1 runs poststart before startContainer; the runtime-spec order
	// is startContainer (before the program runs), then poststart.
	if got, want := order(), strings.Join(hookKinds, "\n")+"\n"; got != want {
		t.Errorf("hooks ran %q, want each once in the order %q", got, want)
	}

	hostMnt, hostUTS := nsLink(t, 0, "mnt"), nsLink(t, 0, "uts")
	for _, kind := range hookKinds {
		var st specs.State
		data := readFile(t, filepath.Join(logs, kind+".json"))
		if err := json.Unmarshal([]byte(data), &st); err != nil {
			t.Errorf("%s hook stdin %q: %v", kind, data, err)
			continue
		}
		if st.ID != id || st.Bundle != b.Dir || st.Annotations["org.example.hook"] != "yes" || st.Version == "" {
			t.Errorf("%s hook state %s: want id %s, bundle %s, the annotations, ociVersion", kind, data, id, b.Dir)
		}
		// runtime-spec "State": the pid as seen by the runtime for hooks in
		// the runtime namespace, as seen by the container for those in the
		// container namespace: 1, the init of its pid namespace (runc 1.1
		// passes the host pid to all of them).
		wantPid := pid
		if kind == "createContainer" || kind == "startContainer" {
			wantPid = 1
		}
		if kind != "poststop" && st.Pid != wantPid {
			t.Errorf("%s hook state pid %d, want %d", kind, st.Pid, wantPid)
		}
		want := map[string][]string{
			"prestart": {"created", "creating"}, "createRuntime": {"creating"}, "createContainer": {"creating"},
			"startContainer": {"created"}, "poststart": {"created", "running"}, "poststop": {"stopped"},
		}[kind]
		if !contains(want, string(st.Status)) {
			t.Errorf("%s hook state status %q, want one of %v", kind, st.Status, want)
		}
		env := readFile(t, filepath.Join(logs, kind+".env"))
		if !strings.Contains(env, "HOOK_KIND="+kind+"\n") || strings.Contains(env, "TINCAN_SENTINEL") {
			t.Errorf("%s hook environment %q: want its configured env only", kind, env)
		}
		mnt := strings.TrimSpace(readFile(t, filepath.Join(logs, kind+".mnt")))
		uts := strings.TrimSpace(readFile(t, filepath.Join(logs, kind+".uts")))
		hostname := strings.TrimSpace(readFile(t, filepath.Join(logs, kind+".hostname")))
		inContainer := kind == "createContainer" || kind == "startContainer"
		if inContainer == (mnt == hostMnt) || inContainer == (uts == hostUTS) {
			t.Errorf("%s hook ran in mnt %s uts %s (host %s %s); want the container's: %v", kind, mnt, uts, hostMnt, hostUTS, inContainer)
		}
		if kind == "startContainer" && hostname != "hooked" {
			t.Errorf("startContainer hook sees hostname %q, want the container's", hostname)
		}
	}
}

func TestHookTimeout(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "true")
	marks := t.TempDir()
	timeout := 1
	b.Spec.Hooks = &specs.Hooks{
		// exec: the hook is the sleep itself. Like runc, the runtime kills
		// the hook process, not what it may have forked.
		//lint:ignore SA1019 prestart is deprecated but still in the runtime-spec, and engines use it
		Prestart: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "exec sleep 31"}, Timeout: &timeout}},
		Poststop: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marks + "/poststop"}}},
	}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	before := testutil.TakeSnapshot(t)
	start := time.Now()
	res := ociExec(t, r, nil, "create", "--bundle", b.Dir, id)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("create with a hung hook took %v, want about the 1 s timeout", d)
	}
	expectFailure(t, res, "timed out")
	assertNothingLeft(t, r, before, id)
	if !exists(filepath.Join(marks, "poststop")) {
		t.Error("poststop hooks did not run after the failed create")
	}
	// The hook's sleep must be gone too.
	for _, p := range testutil.ProcessesWith("sleep\x0031") {
		t.Errorf("timed-out hook left %s", p)
	}
}

func TestFailingPoststartAndPoststopHooksAreWarnings(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	marks := t.TempDir()
	touch := func(name string) specs.Hook {
		return specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "touch " + marks + "/" + name}}
	}
	b.Spec.Hooks = &specs.Hooks{
		Poststart: []specs.Hook{{Path: "/bin/false"}, touch("poststart-after")},
		Poststop:  []specs.Hook{{Path: "/bin/false"}, touch("poststop-after")},
	}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	create(t, r, b, id)
	res := ociExec(t, r, nil, "start", id)
	noStackTrace(t, res.Stderr)
	if res.Code != 0 {
		t.Fatalf("start with a failing poststart hook: exit %d: %s", res.Code, res.Stderr)
	}
	if st := r.State(t, id); st.Status != "running" {
		t.Errorf("status after a failing poststart hook: %q, want running", st.Status)
	}
	if !exists(filepath.Join(marks, "poststart-after")) {
		t.Error("the poststart hook after the failing one did not run")
	}
	if !strings.Contains(res.Stderr, "poststart") {
		t.Errorf("no warning about the failing poststart hook: %q", res.Stderr)
	}
	res = ociExec(t, r, nil, "delete", "--force", id)
	noStackTrace(t, res.Stderr)
	if res.Code != 0 {
		t.Fatalf("delete with a failing poststop hook: exit %d: %s", res.Code, res.Stderr)
	}
	expectFailure(t, r.Exec(t, "state", id), "does not exist")
	if !exists(filepath.Join(marks, "poststop-after")) {
		t.Error("the poststop hook after the failing one did not run")
	}
}

func TestFailingCreateContainerHook(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "true")
	b.Spec.Hooks = &specs.Hooks{
		CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook says no; exit 3"}}},
	}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	before := testutil.TakeSnapshot(t)
	res := ociExec(t, r, nil, "create", "--bundle", b.Dir, id)
	expectFailure(t, res, "createContainer", "hook says no")
	assertNothingLeft(t, r, before, id)
}
