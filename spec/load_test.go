package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func TestLoadDefault(t *testing.T) {
	bundle := newBundle(t)
	data, err := json.MarshalIndent(Default(), "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	writeConfig(t, bundle, data)
	s, err := Load(bundle)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if s.Hostname != "runc" || len(s.Mounts) != 7 {
		t.Errorf("Load returned %+v, want the default configuration", s)
	}
}

func TestLoadIgnoresUnknownFields(t *testing.T) {
	bundle := newBundle(t)
	writeConfig(t, bundle, []byte(`{"ociVersion":"1.0.0","futureField":{"x":[1,2e400]},"hostname":"h"}`))
	s, err := Load(bundle)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if s.Hostname != "h" {
		t.Errorf("hostname = %q, want %q", s.Hostname, "h")
	}
}

func TestLoadMissing(t *testing.T) {
	bundle := t.TempDir()
	_, err := Load(bundle)
	if !errdefs.IsNotFound(err) || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load = %v, want a not-found error", err)
	}
	if path := filepath.Join(bundle, ConfigFile); !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name %s", err, path)
	}
}

func TestLoadDirectory(t *testing.T) {
	bundle := t.TempDir()
	if err := os.Mkdir(filepath.Join(bundle, ConfigFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bundle); !errdefs.IsInvalidArgument(err) {
		t.Errorf("Load = %v, want an invalid-argument error", err)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name string
		data string
		// want is the message after "<path>:"; %d verbs, if any, take the
		// column of the first occurrence of mark on a one-line input.
		want string
		mark string
	}{
		{"empty", "", " file is empty", ""},
		{"blank", " \n\t\n", " file is empty", ""},
		{"trailing comma", `{"ociVersion": "1.0.0",}`, "1:%d: invalid JSON: invalid character '}'", ",}"},
		{"truncated", "{\n", "1:2: invalid JSON: unexpected end of JSON input", ""},
		{"garbage after", `{} x`, "1:%d: invalid JSON: invalid character 'x' after top-level value", " x"},
		{"top-level array", `[1]`, "1:1: the configuration must be a JSON object, not array", ""},
		{"top-level string", `"x"`, "1:1: the configuration must be a JSON object, not string", ""},
		{"number in args", "{\n\t\"ociVersion\": \"1.0.0\",\n\t\"process\": {\n\t\t\"args\": [\"sh\", 1]\n\t}\n}",
			"4:18: process.args[1]: cannot unmarshal number into string", ""},
		{"number for args", `{"process":{"args":5}}`, "1:%d: process.args: cannot unmarshal number into array of string", ":5"},
		{"object for cwd", `{"process":{"cwd":{"a":1}}}`, "1:%d: process.cwd: cannot unmarshal object into string", `:{"a"`},
		{"second mount", `{"mounts":[{"destination":"/a"},{"destination":7}]}`, "1:%d: mounts[1].destination: cannot unmarshal number into string", ":7"},
		{"negative uid", `{"process":{"user":{"uid":-1}}}`, "1:%d: process.user.uid: cannot unmarshal number -1 into uint32", ":-"},
		{"sysctl value", `{"linux":{"sysctl":{"net.ipv4.ip_forward":1}}}`, `1:%d: linux.sysctl["net.ipv4.ip_forward"]: cannot unmarshal number into string`, ":1"},
		{"time offset", `{"linux":{"timeOffsets":{"monotonic":{"secs":"x"}}}}`, `1:%d: linux.timeOffsets["monotonic"].secs: cannot unmarshal string into int64`, `:"x`},
		{"after huge number", `{"x":1e400,"process":{"args":[true]}}`, "1:%d: process.args[0]: cannot unmarshal bool into string", "[t"},
		{"odd key", `{"process":{"user":{"uid":1}},"linux":{"devices":[{"path":"/d","type":"c","major":"1"}]}}`,
			"1:%d: linux.devices[0].major: cannot unmarshal string into int64", `:"1"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bundle := t.TempDir()
			writeConfig(t, bundle, []byte(tc.data))
			_, err := Load(bundle)
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("Load = %v, want an invalid-argument error", err)
			}
			want := tc.want
			if tc.mark != "" {
				// The column of the value just after the mark's first byte.
				want = fmt.Sprintf(tc.want, strings.Index(tc.data, tc.mark)+2)
			}
			want = filepath.Join(bundle, ConfigFile) + ":" + want
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n %q\ndoes not start with\n %q", err, want)
			}
		})
	}
}

// TestLoadValidateKitchenSink loads a configuration that uses most fields
// tincan-oci accepts and checks that only the expected warnings come out.
func TestLoadValidateKitchenSink(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "kitchen-sink.json"))
	if err != nil {
		t.Fatal(err)
	}
	bundle := newBundle(t)
	writeConfig(t, bundle, data)
	s, err := Load(bundle)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	warnings, err := Validate(s, bundle)
	if err != nil {
		t.Fatalf("Validate: %v", err)
	}
	want := []string{
		"config.json: process.consoleSize: ignored because terminal is false",
		`config.json: mounts[0].destination: "proc" is not absolute; using "/proc"`,
	}
	if !slices.Equal(warnings, want) {
		t.Errorf("warnings = %q, want %q", warnings, want)
	}
}

// BenchmarkLoadValidate measures what create spends on config.json for the
// default configuration.
func BenchmarkLoadValidate(b *testing.B) {
	bundle := newBundle(b)
	data, err := json.Marshal(Default())
	if err != nil {
		b.Fatal(err)
	}
	writeConfig(b, bundle, data)
	for b.Loop() {
		s, err := Load(bundle)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Validate(s, bundle); err != nil {
			b.Fatal(err)
		}
	}
}
