package cgroupfs

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriterJournal uses ordinary files standing in for interface files:
// what is journaled and written back is the writer's logic, not the
// kernel's.
func TestWriterJournal(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"memory.max":         "max\n",
		"io.max":             "8:0 rbps=100 wbps=max riops=max wiops=max\n",
		"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\n",
	}
	for name, content := range files {
		writeTestFile(t, filepath.Join(dir, name), content)
	}
	path := func(name string) string { return filepath.Join(dir, name) }

	w := NewWriter(true)
	steps := []error{
		w.Write(path("memory.max"), "1000"),
		w.Write(path("memory.max"), "2000"), // journaled once: the first content is what goes back
		w.WriteEntry(path("io.max"), "8:0", "rbps=5", "rbps=max"),
		w.WriteEntry(path("io.max"), "8:16", "wbps=7", "rbps=max wbps=max riops=max wiops=max"),
		w.WriteUndo(path("memory.oom_control"), "1", "0"),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	// WriteFile does not truncate (interface files need not be), so an
	// ordinary file shows each write over the start of the old content.
	if got, _ := ReadFile(path("memory.oom_control")); !strings.HasPrefix(got, "1om_kill") {
		t.Fatalf("memory.oom_control = %q after WriteUndo, want 1", got)
	}
	var restored []string
	for _, u := range w.undo {
		restored = append(restored, u.path[len(dir)+1:]+"="+u.value)
	}
	want := []string{
		"memory.max=max",
		"io.max=8:0 rbps=100 wbps=max riops=max wiops=max",
		"io.max=8:16 rbps=max wbps=max riops=max wiops=max",
		"memory.oom_control=0",
	}
	if len(restored) != len(want) {
		t.Fatalf("journal = %q, want %q", restored, want)
	}
	for i := range want {
		if restored[i] != want[i] {
			t.Errorf("journal[%d] = %q, want %q", i, restored[i], want[i])
		}
	}
	if err := w.Rollback(); err != nil {
		t.Fatal(err)
	}
	// Newest first: memory.max is written back last, with its first content.
	if got, _ := ReadFile(path("memory.max")); !strings.HasPrefix(got, "max") {
		t.Errorf("memory.max after Rollback = %q, want max", got)
	}
	if got, _ := ReadFile(path("memory.oom_control")); !strings.HasPrefix(got, "0om_kill") {
		t.Errorf("memory.oom_control after Rollback = %q, want 0", got)
	}
	if len(w.undo) != 0 {
		t.Error("Rollback left the journal full")
	}

	// Without a journal nothing is read or kept.
	plain := NewWriter(false)
	if err := plain.Write(path("memory.max"), "5"); err != nil || len(plain.undo) != 0 {
		t.Errorf("a writer without journal: %v, %d undo entries", err, len(plain.undo))
	}
	if err := plain.Write(path("no-such-file"), "1"); err == nil {
		t.Error("Write created a missing interface file")
	}
}

func TestParseValues(t *testing.T) {
	for in, want := range map[string]uint64{"42\n": 42, "max": math.MaxUint64, "-1": 0, " 7 ": 7} {
		if got, err := ParseUint(in); err != nil || got != want {
			t.Errorf("ParseUint(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	if _, err := ParseUint("x"); err == nil {
		t.Error(`ParseUint("x") succeeded`)
	}
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "memory.events"), "low 0\nhigh 2\nmax 3\noom 1\noom_kill 1\nbogus line here\n")
	ev, err := ReadKeyed(filepath.Join(dir, "memory.events"))
	if err != nil || ev["high"] != 2 || ev["oom_kill"] != 1 || len(ev) != 5 {
		t.Errorf("ReadKeyed = %v, %v", ev, err)
	}
	entries := ParseNested("8:0 rbytes=1 wbytes=2 rios=max\n\n253:1 dbytes=9\n")
	if len(entries) != 2 || entries[0].Key != "8:0" || entries[0].Values["wbytes"] != 2 ||
		entries[0].Values["rios"] != math.MaxUint64 || entries[1].Values["dbytes"] != 9 {
		t.Errorf("ParseNested = %+v", entries)
	}
	if major, minor, ok := ParseDevice("253:17"); !ok || major != 253 || minor != 17 {
		t.Errorf("ParseDevice = %d, %d, %v", major, minor, ok)
	}
	if _, _, ok := ParseDevice("default"); ok {
		t.Error(`ParseDevice("default") succeeded`)
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
