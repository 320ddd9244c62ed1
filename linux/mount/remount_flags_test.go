package mount

import (
	"testing"

	"golang.org/x/sys/unix"
)

func TestMountFlagsFromStatfs(t *testing.T) {
	st := int64(unix.ST_RDONLY | unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC | unix.ST_RELATIME | stNoSymFollow | unix.ST_NODIRATIME)
	want := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC | unix.MS_RELATIME | unix.MS_NOSYMFOLLOW | unix.MS_NODIRATIME)
	if got := mountFlagsFromStatfs(st); got != want {
		t.Errorf("got %#x, want %#x", got, want)
	}
	if got := mountFlagsFromStatfs(unix.ST_NOATIME); got != unix.MS_NOATIME {
		t.Errorf("noatime: got %#x", got)
	}
}

func TestBindRemountFlags(t *testing.T) {
	const base = unix.MS_REMOUNT | unix.MS_BIND
	tests := []struct {
		name    string
		opts    []string
		current uintptr
		want    uintptr
	}{
		{"ro keeps the source's nosuid and relatime", []string{"bind", "ro"},
			unix.MS_NOSUID | unix.MS_RELATIME,
			base | unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_RELATIME},
		{"explicit rw and suid clear them", []string{"bind", "rw", "suid", "nodev"},
			unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_RELATIME,
			base | unix.MS_NODEV | unix.MS_RELATIME},
		{"no atime option keeps noatime", []string{"bind", "nosuid"},
			unix.MS_NOATIME,
			base | unix.MS_NOSUID | unix.MS_NOATIME},
		{"no atime option keeps strictatime", []string{"bind", "nosuid"},
			0,
			base | unix.MS_NOSUID | unix.MS_STRICTATIME},
		{"noatime replaces relatime", []string{"bind", "noatime"},
			unix.MS_RELATIME,
			base | unix.MS_NOATIME},
		{"relatime replaces noatime", []string{"bind", "relatime"},
			unix.MS_NOATIME | unix.MS_NODIRATIME,
			base | unix.MS_RELATIME | unix.MS_NODIRATIME},
		{"atime alone clears noatime", []string{"bind", "atime", "ro"},
			unix.MS_NOATIME,
			base | unix.MS_RDONLY | unix.MS_STRICTATIME},
		{"nostrictatime goes back to the default", []string{"bind", "nostrictatime", "ro"},
			0,
			base | unix.MS_RDONLY | unix.MS_RELATIME},
		{"diratime clears nodiratime", []string{"bind", "diratime", "ro"},
			unix.MS_RELATIME | unix.MS_NODIRATIME,
			base | unix.MS_RDONLY | unix.MS_RELATIME},
		{"bind and rec do not reach the remount", []string{"rbind", "nosymfollow"},
			unix.MS_RELATIME,
			base | unix.MS_NOSYMFOLLOW | unix.MS_RELATIME},
	}
	for _, tt := range tests {
		o, err := ParseOptions(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := bindRemountFlags(o, tt.current); got != tt.want {
			t.Errorf("%s: got %#x, want %#x", tt.name, got, tt.want)
		}
	}
}

func TestWithLockedFlagsKeepsLockableButNotReadonly(t *testing.T) {
	o, _ := ParseOptions([]string{"bind", "rw", "suid", "exec", "relatime"})
	current := uintptr(unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NOATIME)
	first := bindRemountFlags(o, current)
	if first&(unix.MS_NOSUID|unix.MS_NOEXEC|unix.MS_RDONLY) != 0 {
		t.Fatalf("first attempt should honour the explicit clears: %#x", first)
	}
	got := withLockedFlags(first, current)
	want := uintptr(unix.MS_REMOUNT | unix.MS_BIND | unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NOATIME)
	if got != want {
		t.Errorf("got %#x, want %#x", got, want)
	}
}
