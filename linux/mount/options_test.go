package mount

import (
	"reflect"
	"slices"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

func TestParseOptionsFlags(t *testing.T) {
	tests := []struct {
		opt          string
		set, cleared uintptr
	}{
		{"async", 0, unix.MS_SYNCHRONOUS},
		{"atime", 0, unix.MS_NOATIME},
		{"bind", unix.MS_BIND, 0},
		{"defaults", 0, 0},
		{"dev", 0, unix.MS_NODEV},
		{"diratime", 0, unix.MS_NODIRATIME},
		{"dirsync", unix.MS_DIRSYNC, 0},
		{"exec", 0, unix.MS_NOEXEC},
		{"iversion", unix.MS_I_VERSION, 0},
		{"lazytime", unix.MS_LAZYTIME, 0},
		{"loud", 0, unix.MS_SILENT},
		{"mand", unix.MS_MANDLOCK, 0},
		{"noatime", unix.MS_NOATIME, 0},
		{"nodev", unix.MS_NODEV, 0},
		{"nodiratime", unix.MS_NODIRATIME, 0},
		{"noexec", unix.MS_NOEXEC, 0},
		{"noiversion", 0, unix.MS_I_VERSION},
		{"nolazytime", 0, unix.MS_LAZYTIME},
		{"nomand", 0, unix.MS_MANDLOCK},
		{"norelatime", 0, unix.MS_RELATIME},
		{"nostrictatime", 0, unix.MS_STRICTATIME},
		{"nosuid", unix.MS_NOSUID, 0},
		{"nosymfollow", unix.MS_NOSYMFOLLOW, 0},
		{"rbind", unix.MS_BIND | unix.MS_REC, 0},
		{"relatime", unix.MS_RELATIME, 0},
		{"remount", unix.MS_REMOUNT, 0},
		{"ro", unix.MS_RDONLY, 0},
		{"rw", 0, unix.MS_RDONLY},
		{"silent", unix.MS_SILENT, 0},
		{"strictatime", unix.MS_STRICTATIME, 0},
		{"suid", 0, unix.MS_NOSUID},
		{"symfollow", 0, unix.MS_NOSYMFOLLOW},
		{"sync", unix.MS_SYNCHRONOUS, 0},
	}
	for _, tt := range tests {
		o, err := ParseOptions([]string{tt.opt})
		if err != nil {
			t.Fatalf("%s: %v", tt.opt, err)
		}
		if o.Flags != tt.set || o.ClearFlags != tt.cleared {
			t.Errorf("%s: flags %#x clear %#x, want %#x and %#x", tt.opt, o.Flags, o.ClearFlags, tt.set, tt.cleared)
		}
		if len(o.Data) != 0 || len(o.Propagation) != 0 || o.RecursiveSet != 0 || o.RecursiveClear != 0 {
			t.Errorf("%s: leaked into other fields: %+v", tt.opt, o)
		}
	}
}

func TestParseOptionsBind(t *testing.T) {
	tests := []struct {
		opts            []string
		bind, recursive bool
	}{
		{[]string{"bind"}, true, false},
		{[]string{"rbind"}, true, true},
		{[]string{"rbind", "bind"}, true, true},
		{[]string{"ro"}, false, false},
	}
	for _, tt := range tests {
		o, err := ParseOptions(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if o.Bind != tt.bind || o.Recursive != tt.recursive {
			t.Errorf("%q: bind %v recursive %v, want %v %v", tt.opts, o.Bind, o.Recursive, tt.bind, tt.recursive)
		}
		if tt.recursive && o.Flags&unix.MS_REC == 0 {
			t.Errorf("%q: MS_REC missing from %#x", tt.opts, o.Flags)
		}
	}
}

func TestParseOptionsLaterOptionWins(t *testing.T) {
	tests := []struct {
		opts         []string
		set, cleared uintptr
	}{
		{[]string{"ro", "rw"}, 0, unix.MS_RDONLY},
		{[]string{"rw", "ro"}, unix.MS_RDONLY, 0},
		{[]string{"nosuid", "suid", "nosuid"}, unix.MS_NOSUID, 0},
		{[]string{"noexec", "nodev", "exec"}, unix.MS_NODEV, unix.MS_NOEXEC},
		{[]string{"noatime", "atime", "relatime"}, unix.MS_RELATIME, unix.MS_NOATIME},
	}
	for _, tt := range tests {
		o, err := ParseOptions(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if o.Flags != tt.set || o.ClearFlags != tt.cleared {
			t.Errorf("%q: flags %#x clear %#x, want %#x and %#x", tt.opts, o.Flags, o.ClearFlags, tt.set, tt.cleared)
		}
	}
}

func TestParseOptionsPropagationKeepsOrder(t *testing.T) {
	o, err := ParseOptions([]string{"rslave", "shared", "rprivate", "private", "slave", "unbindable", "rshared", "runbindable"})
	if err != nil {
		t.Fatal(err)
	}
	want := []uintptr{
		unix.MS_SLAVE | unix.MS_REC, unix.MS_SHARED, unix.MS_PRIVATE | unix.MS_REC, unix.MS_PRIVATE,
		unix.MS_SLAVE, unix.MS_UNBINDABLE, unix.MS_SHARED | unix.MS_REC, unix.MS_UNBINDABLE | unix.MS_REC,
	}
	if !slices.Equal(o.Propagation, want) {
		t.Errorf("propagation %#x, want %#x", o.Propagation, want)
	}
	if o.Flags != 0 {
		t.Errorf("propagation leaked into flags: %#x", o.Flags)
	}
}

func TestParseOptionsRecursive(t *testing.T) {
	const atimeMask = unix.MOUNT_ATTR__ATIME
	tests := []struct {
		opts       []string
		set, clear uint64
	}{
		{[]string{"rro"}, unix.MOUNT_ATTR_RDONLY, 0},
		{[]string{"rrw"}, 0, unix.MOUNT_ATTR_RDONLY},
		{[]string{"rnosuid"}, unix.MOUNT_ATTR_NOSUID, 0},
		{[]string{"rsuid"}, 0, unix.MOUNT_ATTR_NOSUID},
		{[]string{"rnodev"}, unix.MOUNT_ATTR_NODEV, 0},
		{[]string{"rdev"}, 0, unix.MOUNT_ATTR_NODEV},
		{[]string{"rnoexec"}, unix.MOUNT_ATTR_NOEXEC, 0},
		{[]string{"rexec"}, 0, unix.MOUNT_ATTR_NOEXEC},
		{[]string{"rnodiratime"}, unix.MOUNT_ATTR_NODIRATIME, 0},
		{[]string{"rdiratime"}, 0, unix.MOUNT_ATTR_NODIRATIME},
		{[]string{"rnosymfollow"}, unix.MOUNT_ATTR_NOSYMFOLLOW, 0},
		{[]string{"rsymfollow"}, 0, unix.MOUNT_ATTR_NOSYMFOLLOW},
		{[]string{"rrelatime"}, unix.MOUNT_ATTR_RELATIME, atimeMask},
		{[]string{"rnorelatime"}, unix.MOUNT_ATTR_STRICTATIME, atimeMask},
		{[]string{"rnoatime"}, unix.MOUNT_ATTR_NOATIME, atimeMask},
		{[]string{"ratime"}, unix.MOUNT_ATTR_RELATIME, atimeMask},
		{[]string{"rstrictatime"}, unix.MOUNT_ATTR_STRICTATIME, atimeMask},
		{[]string{"rnostrictatime"}, unix.MOUNT_ATTR_RELATIME, atimeMask},
		// Later wins, and the atime mode is replaced, not OR-ed.
		{[]string{"rro", "rrw"}, 0, unix.MOUNT_ATTR_RDONLY},
		{[]string{"rnoatime", "rstrictatime"}, unix.MOUNT_ATTR_STRICTATIME, atimeMask},
		{[]string{"rnoatime", "rnodiratime", "rnosuid"}, unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSUID, atimeMask},
	}
	for _, tt := range tests {
		o, err := ParseOptions(tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if o.RecursiveSet != tt.set || o.RecursiveClear != tt.clear {
			t.Errorf("%q: set %#x clear %#x, want %#x and %#x", tt.opts, o.RecursiveSet, o.RecursiveClear, tt.set, tt.clear)
		}
		if o.Flags != 0 || o.ClearFlags != 0 || len(o.Data) != 0 {
			t.Errorf("%q: leaked into other fields: %+v", tt.opts, o)
		}
	}
}

func TestParseOptionsDataPassthrough(t *testing.T) {
	o, err := ParseOptions([]string{"nosuid", "mode=755", "", "size=65536k", "newinstance", "tmpcopyup", "ptmxmode=0666", "x-custom"})
	if err != nil {
		t.Fatal(err)
	}
	wantData := []string{"mode=755", "size=65536k", "newinstance", "ptmxmode=0666", "x-custom"}
	if !slices.Equal(o.Data, wantData) {
		t.Errorf("data %q, want %q", o.Data, wantData)
	}
	if got := o.DataString(); got != "mode=755,size=65536k,newinstance,ptmxmode=0666,x-custom" {
		t.Errorf("DataString %q", got)
	}
	if !o.TmpCopyUp || o.Flags != unix.MS_NOSUID {
		t.Errorf("tmpcopyup %v flags %#x", o.TmpCopyUp, o.Flags)
	}
}

func TestParseOptionsIDMap(t *testing.T) {
	m := func(c, h, s uint32, rel bool) IDMapRange {
		return IDMapRange{LinuxIDMapping: specs.LinuxIDMapping{ContainerID: c, HostID: h, Size: s}, Relative: rel}
	}
	tests := []struct {
		opt  string
		want IDMapOpt
	}{
		{"idmap", IDMapOpt{}},
		{"ridmap", IDMapOpt{Recursive: true}},
		{"idmap=uids=0-1000-10;gids=0-2000-5", IDMapOpt{UIDs: []IDMapRange{m(0, 1000, 10, false)}, GIDs: []IDMapRange{m(0, 2000, 5, false)}}},
		{"ridmap=uids=0-1-10#10-11-10", IDMapOpt{Recursive: true, UIDs: []IDMapRange{m(0, 1, 10, false), m(10, 11, 10, false)}}},
		{"idmap=gids=@1000-0-1", IDMapOpt{GIDs: []IDMapRange{m(1000, 0, 1, true)}}},
	}
	for _, tt := range tests {
		o, err := ParseOptions([]string{"rbind", tt.opt})
		if err != nil {
			t.Fatalf("%s: %v", tt.opt, err)
		}
		if o.IDMap == nil || !reflect.DeepEqual(*o.IDMap, tt.want) {
			t.Errorf("%s: got %+v, want %+v", tt.opt, o.IDMap, tt.want)
		}
		if len(o.Data) != 0 {
			t.Errorf("%s: idmap must not reach mount data, got %q", tt.opt, o.Data)
		}
	}
	if o, _ := ParseOptions([]string{"rbind"}); o.IDMap != nil {
		t.Errorf("IDMap set without the option: %+v", o.IDMap)
	}
}

func TestParseOptionsMalformedIDMap(t *testing.T) {
	for _, opt := range []string{
		"idmap=",
		"idmap=uids",
		"idmap=uids=",
		"idmap=uids=0-1",
		"idmap=uids=0-1-2-3",
		"idmap=uids=a-1-2",
		"idmap=uids=0-1-0",
		"idmap=uids=0-1-4294967296",
		"idmap=users=0-1-2",
		"ridmap=uids=0-1-2;",
	} {
		_, err := ParseOptions([]string{opt})
		if !errdefs.IsInvalidArgument(err) {
			t.Errorf("%q: want an invalid-argument error, got %v", opt, err)
		}
	}
}

func TestKnownOptionsAreAllParsed(t *testing.T) {
	known := KnownOptions()
	if !slices.IsSorted(known) {
		t.Error("KnownOptions is not sorted")
	}
	// Every name the runtime-spec lists for Linux must be known.
	for _, name := range []string{
		"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec", "iversion", "lazytime", "loud",
		"mand", "noatime", "nodev", "nodiratime", "noexec", "noiversion", "nolazytime", "nomand", "norelatime",
		"nostrictatime", "nosuid", "nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime",
		"remount", "rexec", "rnoatime", "rnodev", "rnodiratime", "rnoexec", "rnorelatime", "rnostrictatime",
		"rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro", "rrw", "rshared", "rslave",
		"rstrictatime", "rsuid", "rsymfollow", "runbindable", "rw", "shared", "silent", "slave", "strictatime",
		"suid", "symfollow", "sync", "tmpcopyup", "unbindable", "idmap", "ridmap",
	} {
		if !slices.Contains(known, name) {
			t.Errorf("%s missing from KnownOptions", name)
		}
	}
	// And every known name must mean something: none may fall through to
	// the data string.
	for _, name := range known {
		o, err := ParseOptions([]string{name})
		if err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if len(o.Data) != 0 {
			t.Errorf("%s is listed as known but parsed as data", name)
		}
	}
}
