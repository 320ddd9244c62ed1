package selinux

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func fakeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestEnabledAt(t *testing.T) {
	const enforce = "sys/fs/selinux/enforce"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  bool
	}{
		{"enforcing", map[string]string{enforce: "1"}, true},
		{"permissive", map[string]string{enforce: "0\n"}, true},
		{"no selinuxfs", map[string]string{"sys/fs/other": "1"}, false},
		{"garbage", map[string]string{enforce: "maybe"}, false},
		{"empty", map[string]string{enforce: ""}, false},
	} {
		if got := enabledAt(fakeTree(t, c.files)); got != c.want {
			t.Errorf("%s: enabled %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEnabledOnThisHost(t *testing.T) {
	data, err := os.ReadFile("/sys/fs/selinux/enforce")
	want := err == nil && (strings.TrimSpace(string(data)) == "0" || strings.TrimSpace(string(data)) == "1")
	if Enabled() != want {
		t.Fatalf("Enabled() = %v, want %v", Enabled(), want)
	}
}

func TestCheckLabel(t *testing.T) {
	for label, ok := range map[string]bool{
		"system_u:system_r:container_t:s0":                  true,
		"system_u:system_r:container_t:s0:c1,c2":            true,
		"system_u:object_r:container_file_t:s0-s0:c0.c1023": true,
		"user_u:user_r:user_t":                              true,
		"container_t":                                       false,
		"a:b":                                               false,
		"a::c":                                              false,
		"a:b:c:":                                            false,
		`a:b:c:s0" ,rw`:                                     false,
		"a:b:c\n":                                           false,
	} {
		err := CheckLabel(label)
		if (err == nil) != ok {
			t.Errorf("CheckLabel(%q) = %v, want ok %v", label, err, ok)
		}
		if err != nil && !errdefs.IsInvalidArgument(err) {
			t.Errorf("CheckLabel(%q): %v is not an invalid argument", label, err)
		}
	}
}

func TestMountData(t *testing.T) {
	const l = "system_u:object_r:container_file_t:s0:c1,c2"
	for _, c := range []struct{ data, label, fstype, want string }{
		{"mode=755", l, "tmpfs", `mode=755,context="` + l + `"`},
		{"", l, "devpts", `context="` + l + `"`},
		{"newinstance", "", "devpts", "newinstance"},
		{"", l, "proc", ""},
		{"", l, "sysfs", ""},
		{"", l, "mqueue", ""},
		{"", l, "bind", ""},
		{"x", l, "cgroup2", "x"},
	} {
		if got := MountData(c.data, c.label, c.fstype); got != c.want {
			t.Errorf("MountData(%q, %q, %q) = %q, want %q", c.data, c.label, c.fstype, got, c.want)
		}
	}
}

func TestSetExecLabelWrites(t *testing.T) {
	const l = "system_u:system_r:container_t:s0:c1,c2"
	proc := fakeTree(t, map[string]string{"thread-self/attr/exec": ""})
	if err := setExecLabelAt(proc, l, anyFile); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(proc, "thread-self/attr/exec")); string(got) != l {
		t.Errorf("attr/exec holds %q, want %q", got, l)
	}
	if err := setExecLabelAt(proc, "bad", anyFile); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad label: %v, want an invalid argument", err)
	}
	if err := setExecLabelAt(t.TempDir(), l, anyFile); err == nil || !strings.Contains(err.Error(), "set selinux exec label") {
		t.Errorf("without attr files: %v", err)
	}
}

func TestSetExecLabelWithoutSELinux(t *testing.T) {
	if Enabled() {
		t.Skip("SELinux is enabled here")
	}
	if err := SetExecLabel("system_u:system_r:container_t:s0"); err == nil {
		t.Fatal("the kernel accepted an SELinux label without SELinux")
	}
}

// anyFile accepts the fake tree's files, which are not on a procfs.
func anyFile(*os.File) error { return nil }

// CVE-2019-19921: a /proc that is not procfs must not take the label.
func TestSetExecLabelRefusesFakeProc(t *testing.T) {
	proc := fakeTree(t, map[string]string{"thread-self/attr/exec": ""})
	err := setExecLabelAt(proc, "system_u:system_r:container_t:s0", procfsFile)
	if err == nil || !strings.Contains(err.Error(), "is not a proc mount") {
		t.Fatalf("fake /proc: %v, want a refusal", err)
	}
	if got, _ := os.ReadFile(filepath.Join(proc, "thread-self/attr/exec")); len(got) != 0 {
		t.Fatalf("the fake attr file was written: %q", got)
	}
}
