package apparmor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

// fakeTree writes files (path -> content; content "/" makes a directory)
// under a temporary root.
func fakeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if content == "/" {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
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
	const param = "sys/module/apparmor/parameters/enabled"
	const fs = "sys/kernel/security/apparmor"
	for _, c := range []struct {
		name  string
		files map[string]string
		want  bool
	}{
		{"enabled", map[string]string{param: "Y\n", fs: "/"}, true},
		{"module says no", map[string]string{param: "N\n", fs: "/"}, false},
		{"no securityfs", map[string]string{param: "Y\n"}, false},
		{"securityfs entry not a directory", map[string]string{param: "Y\n", fs: "x"}, false},
		{"no module", map[string]string{fs: "/"}, false},
		{"empty parameter", map[string]string{param: "", fs: "/"}, false},
	} {
		if got := enabledAt(fakeTree(t, c.files)); got != c.want {
			t.Errorf("%s: enabled %v, want %v", c.name, got, c.want)
		}
	}
}

// This host's answer must agree with what the kernel shows.
func TestEnabledOnThisHost(t *testing.T) {
	_, err := os.Stat("/sys/kernel/security/apparmor")
	data, _ := os.ReadFile("/sys/module/apparmor/parameters/enabled")
	want := err == nil && strings.HasPrefix(string(data), "Y")
	if Enabled() != want {
		t.Fatalf("Enabled() = %v, want %v", Enabled(), want)
	}
}

func TestCheckProfileName(t *testing.T) {
	for name, ok := range map[string]bool{
		"docker-default": true, "unconfined": true, "/usr/bin/foo": true, "a b": true,
		"": false, "a\nexec other": false, "a\x00": false, strings.Repeat("p", 5000): false,
	} {
		err := CheckProfileName(name)
		if (err == nil) != ok {
			t.Errorf("CheckProfileName(%.20q) = %v, want ok %v", name, err, ok)
		}
		if err != nil && !errdefs.IsInvalidArgument(err) {
			t.Errorf("CheckProfileName(%.20q): %v is not an invalid argument", name, err)
		}
	}
}

func TestApplyExecProfileWrites(t *testing.T) {
	// Newer kernels: the AppArmor directory.
	proc := fakeTree(t, map[string]string{"thread-self/attr/apparmor/exec": "", "thread-self/attr/exec": ""})
	if err := applyExecProfileAt(proc, "docker-default", anyFile); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(proc, "thread-self/attr/apparmor/exec")); string(got) != "exec docker-default" {
		t.Errorf("apparmor/exec holds %q, want %q", got, "exec docker-default")
	}
	if got, _ := os.ReadFile(filepath.Join(proc, "thread-self/attr/exec")); len(got) != 0 {
		t.Errorf("the shared attr/exec was written too: %q", got)
	}
	// Older kernels: the shared file.
	proc = fakeTree(t, map[string]string{"thread-self/attr/exec": ""})
	if err := applyExecProfileAt(proc, "p", anyFile); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(proc, "thread-self/attr/exec")); string(got) != "exec p" {
		t.Errorf("attr/exec holds %q, want %q", got, "exec p")
	}
	// Neither: an error naming the profile.
	err := applyExecProfileAt(t.TempDir(), "p", anyFile)
	if err == nil || !strings.Contains(err.Error(), `apply apparmor profile "p"`) {
		t.Errorf("without attr files: %v", err)
	}
	if err := applyExecProfileAt(proc, "p\nq", anyFile); !errdefs.IsInvalidArgument(err) {
		t.Errorf("bad name: %v, want an invalid argument", err)
	}
}

// On a host without AppArmor the kernel refuses the request.
func TestApplyExecProfileWithoutAppArmor(t *testing.T) {
	if Enabled() {
		t.Skip("AppArmor is enabled here")
	}
	if err := ApplyExecProfile("docker-default"); err == nil {
		t.Fatal("the kernel accepted an AppArmor profile without AppArmor")
	}
}

// anyFile accepts the fake tree's files, which are not on a procfs.
func anyFile(*os.File) error { return nil }

// CVE-2019-19921: a /proc that is not procfs must not take the profile.
func TestApplyExecProfileRefusesFakeProc(t *testing.T) {
	proc := fakeTree(t, map[string]string{"thread-self/attr/apparmor/exec": ""})
	err := applyExecProfileAt(proc, "docker-default", procfsFile)
	if err == nil || !strings.Contains(err.Error(), "is not a proc mount") {
		t.Fatalf("fake /proc: %v, want a refusal", err)
	}
	if got, _ := os.ReadFile(filepath.Join(proc, "thread-self/attr/apparmor/exec")); len(got) != 0 {
		t.Fatalf("the fake attr file was written: %q", got)
	}
}
