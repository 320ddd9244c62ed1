package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tincan/tincan/internal/testutil"
)

func TestListFormats(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	created, running := newID(t), newID(t)
	create(t, r, b, created)
	runDetached(t, r, b, running)

	res := r.MustExec(t, "list")
	lines := strings.Split(strings.TrimSuffix(res.Stdout, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("list printed %d lines, want a header and 2 rows:\n%s", len(lines), res.Stdout)
	}
	if got := strings.Join(strings.Fields(lines[0]), " "); got != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Errorf("list header = %q", lines[0])
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	for id, status := range map[string]string{created: "created", running: "running"} {
		f := rows[id]
		if len(f) != 6 {
			t.Errorf("list row for %s = %q, want 6 columns", id, f)
			continue
		}
		pid := strconv.Itoa(r.State(t, id).Pid)
		if f[1] != pid || f[2] != status || f[3] != b.Dir || f[5] != "root" {
			t.Errorf("list row %q, want pid %s status %s bundle %s owner root", f, pid, status, b.Dir)
		}
		if _, err := time.Parse(time.RFC3339Nano, f[4]); err != nil {
			t.Errorf("list CREATED %q: %v", f[4], err)
		}
	}

	res = r.MustExec(t, "list", "--format", "json")
	var objs []map[string]any
	if err := json.Unmarshal([]byte(res.Stdout), &objs); err != nil {
		t.Fatalf("list --format json: %v: %q", err, res.Stdout)
	}
	if len(objs) != 2 {
		t.Fatalf("list --format json has %d objects, want 2: %s", len(objs), res.Stdout)
	}
	for _, o := range objs {
		for _, k := range []string{"id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
			if _, ok := o[k]; !ok {
				t.Errorf("list --format json object lacks %q: %v", k, o)
			}
		}
		if o["bundle"] != b.Dir || o["rootfs"] != b.Rootfs() || o["owner"] != "root" {
			t.Errorf("list --format json object %v: want bundle %s rootfs %s owner root", o, b.Dir, b.Rootfs())
		}
	}

	res = r.MustExec(t, "list", "-q")
	ids := strings.Fields(res.Stdout)
	if len(ids) != 2 || !strings.Contains(res.Stdout, created+"\n") || !strings.Contains(res.Stdout, running+"\n") {
		t.Errorf("list -q = %q, want exactly the two ids", res.Stdout)
	}

	// An empty root lists just the header, and an empty JSON array.
	empty := testutil.NewRuntime(t)
	if res := empty.MustExec(t, "list", "--format", "json"); strings.TrimSpace(res.Stdout) != "[]" {
		t.Errorf("list --format json of no containers = %q, want []", res.Stdout)
	}
}

func TestStateJSONFields(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	b.Spec.Annotations = map[string]string{"org.example.key": "value"}
	b.Save(t)
	r := testutil.NewRuntime(t)
	id := newID(t)
	before := time.Now()
	create(t, r, b, id)

	res := r.MustExec(t, "state", id)
	var st map[string]any
	if err := json.Unmarshal([]byte(res.Stdout), &st); err != nil {
		t.Fatalf("state: %v: %q", err, res.Stdout)
	}
	for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner", "annotations"} {
		if _, ok := st[k]; !ok {
			t.Errorf("state lacks %q: %s", k, res.Stdout)
		}
	}
	if st["ociVersion"] != b.Spec.Version || st["id"] != id || st["status"] != "created" ||
		st["bundle"] != b.Dir || st["rootfs"] != b.Rootfs() || st["owner"] != "root" {
		t.Errorf("state = %s", res.Stdout)
	}
	if pid, _ := st["pid"].(float64); pid <= 0 {
		t.Errorf("state pid = %v", st["pid"])
	}
	if ann, _ := st["annotations"].(map[string]any); ann["org.example.key"] != "value" {
		t.Errorf("state annotations = %v", st["annotations"])
	}
	created, err := time.Parse(time.RFC3339Nano, st["created"].(string))
	if err != nil || created.Before(before.Add(-time.Second)) || created.After(time.Now().Add(time.Second)) {
		t.Errorf("state created = %v (%v), want about now", st["created"], err)
	}

	// Without annotations the field is left out, as runc does.
	b2 := testutil.NewBundle(t, "sleep", "100")
	id2 := newID(t)
	create(t, r, b2, id2)
	if res := r.MustExec(t, "state", id2); strings.Contains(res.Stdout, "annotations") {
		t.Errorf("state of a container without annotations shows them: %s", res.Stdout)
	}
}

func TestPidFileHoldsInitPid(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	dir := t.TempDir()
	for _, verb := range []string{"create", "run"} {
		id := newID(t)
		pidFile := filepath.Join(dir, verb+".pid")
		args := []string{verb, "--bundle", b.Dir, "--pid-file", pidFile}
		if verb == "run" {
			args = append(args, "--detach")
		}
		ociMust(t, r, append(args, id)...)
		forceDeleteAtCleanup(t, r, id)
		data, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatalf("%s --pid-file: %v", verb, err)
		}
		if want := strconv.Itoa(r.State(t, id).Pid); string(data) != want {
			t.Errorf("%s --pid-file holds %q, state pid is %s", verb, data, want)
		}
	}
}

func TestPidFileRelativeToCwd(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	dir := t.TempDir()
	id := newID(t)
	cmd := r.Cmd("create", "--bundle", b.Dir, "--pid-file", "rel.pid", id)
	cmd.Dir = dir
	if res := ociExecCmd(t, cmd, nil); res.Code != 0 {
		t.Fatalf("create: %s", res.Stderr)
	}
	forceDeleteAtCleanup(t, r, id)
	if data, err := os.ReadFile(filepath.Join(dir, "rel.pid")); err != nil || string(data) != strconv.Itoa(r.State(t, id).Pid) {
		t.Errorf("relative pid file: %q %v", data, err)
	}
}
