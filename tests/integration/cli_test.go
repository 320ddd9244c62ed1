package integration

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/tincan/tincan/internal/testutil"
)

func TestSingleDashLongFlagsAndFlagsAfterID(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "sleep", "100")
	r := testutil.NewRuntime(t)
	pidFile := filepath.Join(t.TempDir(), "pid")

	// runc uses urfave/cli, which accepts -bundle as well as --bundle.
	id := newID(t)
	ociMust(t, r, "-root", r.Root, "create", "-bundle", b.Dir, "-pid-file", pidFile, id)
	forceDeleteAtCleanup(t, r, id)
	if data, _ := os.ReadFile(pidFile); string(data) != strconv.Itoa(r.State(t, id).Pid) {
		t.Errorf("-pid-file holds %q, want the init's pid %d", data, r.State(t, id).Pid)
	}
	ociMust(t, r, "start", id)
	r.MustExec(t, "delete", "-force", id)
	expectFailure(t, r.Exec(t, "state", id), "does not exist")

	// Flags after the container id, as engines sometimes pass them.
	id2 := newID(t)
	ociMust(t, r, "create", id2, "--bundle", b.Dir)
	forceDeleteAtCleanup(t, r, id2)
	if st := r.State(t, id2); st.Status != "created" || st.Bundle != b.Dir {
		t.Errorf("create ID --bundle X: status %q bundle %q", st.Status, st.Bundle)
	}
	r.MustExec(t, "delete", id2, "--force")
	expectFailure(t, r.Exec(t, "state", id2), "does not exist")

	// Short flags.
	id3 := newID(t)
	ociMust(t, r, "run", "-d", "-b", b.Dir, id3)
	forceDeleteAtCleanup(t, r, id3)
	r.MustExec(t, "delete", "-f", id3)
}

func TestVersion(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	for _, flag := range []string{"--version", "-v", "-version"} {
		res := r.MustExec(t, flag)
		lines := strings.Split(res.Stdout, "\n")
		if !strings.HasPrefix(lines[0], "tincan-oci version ") {
			t.Errorf("%s: first line %q, want \"tincan-oci version ...\"", flag, lines[0])
		}
		if !strings.Contains(res.Stdout, "\nspec: "+specs.Version+"\n") {
			t.Errorf("%s: %q lacks the spec version line %q", flag, res.Stdout, "spec: "+specs.Version)
		}
	}
}

func TestSpecMatchesRunc(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	dir := t.TempDir()
	r.MustExec(t, "spec", "--bundle", dir)
	var got specs.Spec
	data := readFile(t, filepath.Join(dir, "config.json"))
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("spec wrote unparsable config.json: %v", err)
	}
	if got.Version != specs.Version {
		t.Errorf("ociVersion = %q, want %q", got.Version, specs.Version)
	}
	if got.Root == nil || got.Root.Path != "rootfs" || got.Process == nil || !reflect.DeepEqual(got.Process.Args, []string{"sh"}) ||
		!got.Process.Terminal || got.Hostname != "runc" || got.Linux == nil || len(got.Linux.Namespaces) != 5 {
		t.Errorf("spec config: %s", data)
	}

	// Refuses to overwrite, leaving the file as it was.
	res := r.Exec(t, "spec", "--bundle", dir)
	expectFailure(t, res, "exists")
	if readFile(t, filepath.Join(dir, "config.json")) != data {
		t.Error("refused spec changed config.json")
	}

	// In the current directory, like runc.
	cwdDir := t.TempDir()
	cmd := r.Cmd("spec")
	cmd.Dir = cwdDir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("spec in the current directory: %v: %s", err, out)
	}
	if !exists(filepath.Join(cwdDir, "config.json")) {
		t.Error("spec without --bundle wrote no config.json in the current directory")
	}

	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc not installed: no comparison")
	}
	runcDir := t.TempDir()
	if out, err := exec.Command(runc, "spec", "--bundle", runcDir).CombinedOutput(); err != nil {
		t.Fatalf("runc spec: %v: %s", err, out)
	}
	var want specs.Spec
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(runcDir, "config.json"))), &want); err != nil {
		t.Fatal(err)
	}
	// Only the version differs: tincan-oci writes the runtime-spec version it
	// implements.
	want.Version = got.Version
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("spec differs from runc spec:\n got %s\nwant %s", g, w)
	}
}

func TestSpecRootless(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	dir := t.TempDir()
	r.MustExec(t, "spec", "--rootless", "--bundle", dir)
	var s specs.Spec
	if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "config.json"))), &s); err != nil {
		t.Fatal(err)
	}
	var types []specs.LinuxNamespaceType
	for _, n := range s.Linux.Namespaces {
		types = append(types, n.Type)
	}
	if !slices.Contains(types, specs.UserNamespace) || slices.Contains(types, specs.NetworkNamespace) {
		t.Errorf("rootless namespaces = %v, want a user namespace and no network namespace", types)
	}
	uid, gid := uint32(os.Geteuid()), uint32(os.Getegid())
	if len(s.Linux.UIDMappings) != 1 || s.Linux.UIDMappings[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: uid, Size: 1}) {
		t.Errorf("uidMappings = %+v, want 0 -> %d size 1", s.Linux.UIDMappings, uid)
	}
	if len(s.Linux.GIDMappings) != 1 || s.Linux.GIDMappings[0] != (specs.LinuxIDMapping{ContainerID: 0, HostID: gid, Size: 1}) {
		t.Errorf("gidMappings = %+v, want 0 -> %d size 1", s.Linux.GIDMappings, gid)
	}
	if s.Linux.Resources != nil {
		t.Errorf("rootless config keeps linux.resources: %+v", s.Linux.Resources)
	}
}

func TestFeatures(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	r := testutil.NewRuntime(t)
	res := r.MustExec(t, "features")
	var f features.Features
	if err := json.Unmarshal([]byte(res.Stdout), &f); err != nil {
		t.Fatalf("features: %v: %s", err, res.Stdout)
	}
	if f.OCIVersionMin == "" || f.OCIVersionMax != specs.Version {
		t.Errorf("ociVersionMin %q ociVersionMax %q, want a minimum and max %s", f.OCIVersionMin, f.OCIVersionMax, specs.Version)
	}
	wantHooks := []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}
	if len(f.Hooks) != 6 {
		t.Errorf("hooks = %v, want the 6 kinds", f.Hooks)
	}
	for _, h := range wantHooks {
		if !slices.Contains(f.Hooks, h) {
			t.Errorf("hooks = %v lacks %s", f.Hooks, h)
		}
	}
	if len(f.MountOptions) == 0 || !slices.Contains(f.MountOptions, "rbind") || !slices.Contains(f.MountOptions, "ro") {
		t.Errorf("mountOptions = %v, want the known options (rbind, ro, ...)", f.MountOptions)
	}
	if f.Linux == nil {
		t.Fatalf("features has no linux section: %s", res.Stdout)
	}
	for _, ns := range []string{"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"} {
		if !slices.Contains(f.Linux.Namespaces, ns) {
			t.Errorf("linux.namespaces = %v lacks %s", f.Linux.Namespaces, ns)
		}
	}
	for _, c := range []string{"CAP_SYS_ADMIN", "CAP_CHOWN", "CAP_NET_ADMIN"} {
		if !slices.Contains(f.Linux.Capabilities, c) {
			t.Errorf("linux.capabilities lacks %s", c)
		}
	}
}

func TestUnknownFlagAndCommand(t *testing.T) {
	testutil.RequiresRoot(t)
	t.Parallel()
	b := testutil.NewBundle(t, "true")
	r := testutil.NewRuntime(t)
	before := testutil.TakeSnapshot(t)
	id := newID(t)
	expectFailure(t, r.Exec(t, "create", "--bundle", b.Dir, "--no-such-flag", id), "no-such-flag")
	expectFailure(t, r.Exec(t, "--no-such-global", "list"), "no-such-global")
	expectFailure(t, r.Exec(t, "frobnicate", id), "frobnicate")
	expectFailure(t, r.Exec(t, "create", "--bundle", b.Dir), "create")
	expectFailure(t, r.Exec(t, "start"), "start")
	expectFailure(t, r.Exec(t, "kill", id, "TERM", "extra"), "kill")
	assertNothingLeft(t, r, before, id)
}
