package cgroups

import (
	"errors"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func TestResolvePath(t *testing.T) {
	tests := []struct {
		cgroupsPath, id string
		want            string
		wantErr         error // class, nil for success
	}{
		{"", "abc", "/tincan/abc", nil},
		{"/a/b", "abc", "/a/b", nil},
		{"/a//b/./c/", "abc", "/a/b/c", nil},
		{"/a/../b", "abc", "/b", nil},
		{"a/b", "abc", "/tincan/a/b", nil},
		{"./a/../b", "abc", "/tincan/b", nil},
		{"/tincan", "abc", "/tincan", nil},
		{"/a:b/c", "abc", "/a:b/c", nil},                       // colons in a path are not special
		{"machine:x:y:z", "abc", "/tincan/machine:x:y:z", nil}, // four fields: a plain path
		{"foo:bar:baz", "abc", "/tincan/foo:bar:baz", nil},     // first field is not a slice
		{"/../a", "abc", "", errdefs.ErrInvalidArgument},
		{"/a/../../b", "abc", "", errdefs.ErrInvalidArgument},
		{"../..", "abc", "", errdefs.ErrInvalidArgument},
		{"a/../../x", "abc", "", errdefs.ErrInvalidArgument}, // would climb out of /tincan
		{"a/..", "abc", "", errdefs.ErrInvalidArgument},      // /tincan itself
		{"/", "abc", "", errdefs.ErrInvalidArgument},
		{"/a/..", "abc", "", errdefs.ErrInvalidArgument},
		{"/a\x00b", "abc", "", errdefs.ErrInvalidArgument},
		{"", "", "", errdefs.ErrInvalidArgument},
		{"", "..", "", errdefs.ErrInvalidArgument},
		{"", "a/b", "", errdefs.ErrInvalidArgument},
		{"system.slice:docker:abc", "abc", "", errdefs.ErrUnsupported},
		{":tincan:abc", "abc", "", errdefs.ErrUnsupported},
		{"kubepods-besteffort-pod1.slice:cri-containerd:abc", "abc", "", errdefs.ErrUnsupported},
	}
	for _, tt := range tests {
		got, err := ResolvePath(tt.cgroupsPath, tt.id)
		if tt.wantErr == nil {
			if err != nil || got != tt.want {
				t.Errorf("ResolvePath(%q, %q) = %q, %v; want %q", tt.cgroupsPath, tt.id, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.wantErr) || got != "" {
			t.Errorf("ResolvePath(%q, %q) = %q, %v; want an error of class %q", tt.cgroupsPath, tt.id, got, err, tt.wantErr)
		}
	}
}

func TestResolvePathSystemdMessage(t *testing.T) {
	_, err := ResolvePath("system.slice:docker:abc", "abc")
	if err == nil || !strings.Contains(err.Error(), "--systemd-cgroup") || !strings.Contains(err.Error(), "system.slice:docker:abc") {
		t.Fatalf("error %v; want it to quote the path and mention --systemd-cgroup", err)
	}
}
