package logging

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestJSONLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.json")
	l, err := New(path, JSON, false, "tincan-oci")
	if err != nil {
		t.Fatal(err)
	}
	l.Warnf("w %d", 1)
	l.Debugf("hidden")
	l.Errorf("container %q does not exist", "x")
	l.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines (debug off), got %q", lines)
	}
	var last map[string]string
	if err := json.Unmarshal([]byte(lines[1]), &last); err != nil {
		t.Fatal(err)
	}
	if last["level"] != "error" || last["msg"] != `container "x" does not exist` || last["time"] == "" {
		t.Fatalf("error line %v", last)
	}
}

func TestTextAndBadFormat(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log.txt")
	l, err := New(path, Text, true, "tincan-oci")
	if err != nil {
		t.Fatal(err)
	}
	l.Debugf("step %s", "mount")
	l.Close()
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `level=debug msg="step mount"`) {
		t.Fatalf("text line %q", data)
	}
	if _, err := New("", Format("xml"), false, "tincan-oci"); err == nil {
		t.Fatal("unknown format accepted")
	}
}
