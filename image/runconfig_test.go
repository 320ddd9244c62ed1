package image

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/tincan/tincan/errdefs"
)

// TestResolveRunConfig follows docker's precedence rules.
func TestResolveRunConfig(t *testing.T) {
	img := ocispec.ImageConfig{
		Entrypoint: []string{"/entry"}, Cmd: []string{"default", "args"},
		Env: []string{"PATH=/img/bin", "A=1", "B=2"}, WorkingDir: "/work", User: "app",
		StopSignal: "SIGQUIT", ExposedPorts: map[string]struct{}{"443/tcp": {}, "80/tcp": {}},
		Volumes: map[string]struct{}{"/data": {}, "/cache": {}}, Labels: map[string]string{"k": "v"},
	}
	for _, tc := range []struct {
		name string
		o    RunOverrides
		args []string
	}{
		{"image defaults", RunOverrides{}, []string{"/entry", "default", "args"}},
		{"args replace cmd", RunOverrides{Cmd: []string{"mine"}}, []string{"/entry", "mine"}},
		{"entrypoint drops cmd", RunOverrides{Entrypoint: []string{"/bin/sh"}, EntrypointSet: true}, []string{"/bin/sh"}},
		{"entrypoint and args", RunOverrides{Entrypoint: []string{"/bin/sh"}, EntrypointSet: true, Cmd: []string{"-c", "x"}}, []string{"/bin/sh", "-c", "x"}},
		{"cleared entrypoint", RunOverrides{Entrypoint: []string{}, EntrypointSet: true, Cmd: []string{"ls"}}, []string{"ls"}},
	} {
		rc, err := ResolveRunConfig(img, tc.o)
		if err != nil || !reflect.DeepEqual(rc.Args, tc.args) {
			t.Errorf("%s: args %q, %v; want %q", tc.name, rc.Args, err, tc.args)
		}
		if joined := append(append([]string{}, rc.Entrypoint...), rc.Cmd...); !reflect.DeepEqual(joined, tc.args) {
			t.Errorf("%s: entrypoint %q + cmd %q, want %q", tc.name, rc.Entrypoint, rc.Cmd, tc.args)
		}
	}
	rc, err := ResolveRunConfig(img, RunOverrides{Env: []string{"B=3", "C=4"}, WorkingDir: "/tmp", User: "0", StopSignal: "SIGKILL"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rc.Env, []string{"PATH=/img/bin", "A=1", "B=3", "C=4"}) || rc.WorkingDir != "/tmp" || rc.User != "0" || rc.StopSignal != "SIGKILL" {
		t.Fatalf("overrides: %+v", rc)
	}
	if !reflect.DeepEqual(rc.ExposedPorts, []string{"443/tcp", "80/tcp"}) || !reflect.DeepEqual(rc.Volumes, []string{"/cache", "/data"}) || rc.Labels["k"] != "v" {
		t.Fatalf("ports, volumes, labels: %+v", rc)
	}
	rc, _ = ResolveRunConfig(ocispec.ImageConfig{Cmd: []string{"sh"}}, RunOverrides{})
	if rc.WorkingDir != "/" || !reflect.DeepEqual(rc.Env, []string{defaultPath}) || rc.User != "" || rc.StopSignal != "" {
		t.Fatalf("defaults: %+v", rc)
	}
	if _, err := ResolveRunConfig(ocispec.ImageConfig{}, RunOverrides{}); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), "no command specified") {
		t.Fatalf("no command: %v", err)
	}
	// --entrypoint "" with no arguments leaves nothing to run either.
	if _, err := ResolveRunConfig(img, RunOverrides{Entrypoint: []string{}, EntrypointSet: true}); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("cleared entrypoint, no args: %v", err)
	}
	rc, _ = ResolveRunConfig(img, RunOverrides{Cmd: []string{"mine"}})
	if !reflect.DeepEqual(rc.Entrypoint, []string{"/entry"}) || !reflect.DeepEqual(rc.Cmd, []string{"mine"}) {
		t.Fatalf("entrypoint %q cmd %q, want [/entry] [mine]", rc.Entrypoint, rc.Cmd)
	}
	for in, want := range map[string]PullPolicy{"": PullMissing, "always": PullAlways, "never": PullNever, "missing": PullMissing} {
		if got, err := ParsePullPolicy(in); err != nil || got != want {
			t.Errorf("ParsePullPolicy(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParsePullPolicy("sometimes"); !errdefs.IsInvalidArgument(err) {
		t.Error("a bad --pull value was accepted")
	}
}

func TestResolveRunConfigEnv(t *testing.T) {
	cfg := ocispec.ImageConfig{Cmd: []string{"sh"}, Env: []string{"PATH=/bin", "A=image", "B=image", "C=image"}}
	rc, err := ResolveRunConfig(cfg, RunOverrides{Env: []string{"B=run", "C", "D=run", "E"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"PATH=/bin", "A=image", "B=run", "D=run"}
	if !slices.Equal(rc.Env, want) {
		t.Errorf("env %q, want %q (B replaced, C removed by a bare -e C, E absent)", rc.Env, want)
	}
}
