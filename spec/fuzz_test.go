package spec

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

// FuzzLoadValidate feeds arbitrary bytes to Load and Validate as a bundle's
// config.json. Neither may panic, and every error must carry an error class
// so that the CLI can map it to an exit status. More seeds live in
// testdata/fuzz/FuzzLoadValidate.
func FuzzLoadValidate(f *testing.F) {
	for _, s := range []any{Default(), rootlessDefault(1000, 1000)} {
		data, err := json.MarshalIndent(s, "", "\t")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, seed := range []string{
		``,
		`null`,
		`[]`,
		`{"ociVersion":"1.0.0","root":{"path":"rootfs"}}`,
		`{"ociVersion":"1.0.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/","env":["=x"]}}`,
		`{"ociVersion":"1.0.0","root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"user"}],"uidMappings":[{"containerID":4294967295,"hostID":0,"size":4294967295}]}}`,
		`{"ociVersion":"1.0.0","root":{"path":"rootfs"},"linux":{"sysctl":{"net/../x":"1","%!":""},"timeOffsets":{"x":{}}}}`,
		`{"ociVersion":"1.0.0","root":{"path":"rootfs"},"process":{"args":["sh"],"cwd":"/","execCPUAffinity":{"initial":"-,1-"},"scheduler":{"policy":"SCHED_DEADLINE"}}}`,
		`{"process":{"args":[1]}}`,
		`{"linux":{"sysctl":{"a":{"b":[1e999]}}}}`,
	} {
		f.Add([]byte(seed))
	}
	// One bundle serves every input: Load and Validate write nothing, and a
	// fresh directory per input would make fuzzing slow.
	bundle := newBundle(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		writeConfig(t, bundle, data)
		s, err := Load(bundle)
		if err != nil {
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("Load error %q has no invalid-argument class", err)
			}
			return
		}
		_, err = Validate(s, bundle)
		if err == nil {
			return
		}
		if !strings.HasPrefix(err.Error(), ConfigFile+": ") {
			t.Errorf("Validate error %q does not start with %q", err, ConfigFile+": ")
		}
		if !errdefs.IsInvalidArgument(err) && !errors.Is(err, errdefs.ErrUnsupported) && !errdefs.IsNotFound(err) {
			t.Errorf("Validate error %q has no class", err)
		}
	})
}
