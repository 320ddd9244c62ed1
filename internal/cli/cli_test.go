package cli

import (
	"bytes"
	"errors"
	"flag"
	"reflect"
	"strings"
	"testing"
)

func newCmd(bundle *string, detach *bool, envs *StringList) *Command {
	return &Command{
		Name: "create",
		Args: "<container-id>",
		Flags: func(fs *flag.FlagSet) {
			StringVarP(fs, bundle, "bundle", "b", "", "path to the bundle")
			BoolVarP(fs, detach, "detach", "d", false, "detach")
			fs.Var(envs, "env", "environment")
		},
	}
}

func TestParseSpellings(t *testing.T) {
	cases := []struct {
		args   []string
		pos    []string
		bundle string
		detach bool
	}{
		{[]string{"--bundle", "/b", "id"}, []string{"id"}, "/b", false},
		{[]string{"-bundle", "/b", "id"}, []string{"id"}, "/b", false},
		{[]string{"-b=/b", "id", "-d"}, []string{"id"}, "/b", true},
		{[]string{"id", "--bundle=/b", "--detach"}, []string{"id"}, "/b", true},
		{[]string{"--", "-id-like"}, []string{"-id-like"}, "", false},
		{[]string{"a", "--", "--bundle"}, []string{"a", "--bundle"}, "", false},
	}
	for _, c := range cases {
		var bundle string
		var detach bool
		var envs StringList
		pos, err := newCmd(&bundle, &detach, &envs).Parse("tincan-oci", c.args, &bytes.Buffer{})
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if !reflect.DeepEqual(pos, c.pos) || bundle != c.bundle || detach != c.detach {
			t.Errorf("%v: pos %q bundle %q detach %v", c.args, pos, bundle, detach)
		}
	}
}

func TestRepeatedAndStopAtFirstArg(t *testing.T) {
	var bundle string
	var detach bool
	var envs StringList
	cmd := newCmd(&bundle, &detach, &envs)
	cmd.StopAtFirstArg = true
	pos, err := cmd.Parse("tincan-oci", []string{"--env", "A=1", "-env", "B=2", "id", "sh", "-c", "--detach"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual([]string(envs), []string{"A=1", "B=2"}) {
		t.Errorf("envs %q", envs)
	}
	if !reflect.DeepEqual(pos, []string{"id", "sh", "-c", "--detach"}) || detach {
		t.Errorf("pos %q detach %v: flags after the first argument must belong to the program", pos, detach)
	}
}

func TestErrorsAndHelp(t *testing.T) {
	var bundle string
	var detach bool
	var envs StringList
	_, err := newCmd(&bundle, &detach, &envs).Parse("tincan-oci", []string{"--bogus", "id"}, &bytes.Buffer{})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "unknown flag -bogus") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("unknown flag error = %v", err)
	}
	_, err = newCmd(&bundle, &detach, &envs).Parse("tincan-oci", []string{"--bundle"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "bundle") {
		t.Fatalf("missing value error = %v", err)
	}
	var out bytes.Buffer
	_, err = newCmd(&bundle, &detach, &envs).Parse("tincan-oci", []string{"--help"}, &out)
	if !errors.Is(err, ErrHelp) {
		t.Fatalf("help: %v", err)
	}
	if !strings.Contains(out.String(), "--bundle, -b") || !strings.Contains(out.String(), "Usage: tincan-oci create") {
		t.Fatalf("help text:\n%s", out.String())
	}
}
