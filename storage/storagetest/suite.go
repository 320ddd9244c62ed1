package storagetest

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/storage"
)

// Factory makes a fresh snapshotter for one test, and a view function
// that returns a directory showing snapshot key as a container sees it
// (for overlay: a read-only overlay mount of its layers, unmounted at the
// test's cleanup).
type Factory func(t *testing.T) (s storage.Snapshotter, view func(t *testing.T, key string) string)

// Run runs the suite against the snapshotters f makes. It needs root
// (ownership, device nodes, trusted xattrs).
func Run(t *testing.T, f Factory) {
	tests := []struct {
		name string
		fn   func(*testing.T, Factory)
	}{
		{"Basic", testBasic},
		{"Whiteouts", testWhiteouts},
		{"OpaqueAfterEntries", testOpaqueAfterEntries},
		{"Replace", testReplace},
		{"ImplicitParents", testImplicitParents},
		{"EscapesRefused", testEscapesRefused},
		{"SymlinksResolveInside", testSymlinksResolveInside},
		{"FailedReadCommitsNothing", testFailedRead},
		{"IDMapping", testIDMapping},
		{"ConcurrentApply", testConcurrentApply},
		{"ListRemoveCleanup", testListRemove},
		{"LayeredView", testLayered},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, f) })
	}
}

// apply applies layer as key on top of parents (nearest first).
func apply(t *testing.T, s storage.Snapshotter, key string, parents []string, layer []byte) storage.Info {
	t.Helper()
	info, err := s.Apply(context.Background(), key, parents, bytes.NewReader(layer), storage.ApplyOptions{})
	if err != nil {
		t.Fatalf("apply %s: %v", key, err)
	}
	return info
}

func lstat(t *testing.T, p string) *unix.Stat_t {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat %s: %v", p, err)
	}
	return &st
}

func wantContent(t *testing.T, p, want string) {
	t.Helper()
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v", p, err)
	}
	if string(got) != want {
		t.Fatalf("%s holds %q, want %q", p, got, want)
	}
}

func wantMissing(t *testing.T, p string) {
	t.Helper()
	if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s should not exist (lstat: %v)", p, err)
	}
}

func wantMode(t *testing.T, p string, typ, perm uint32, uid, gid int) {
	t.Helper()
	st := lstat(t, p)
	if st.Mode&unix.S_IFMT != typ || st.Mode&0o7777 != perm || int(st.Uid) != uid || int(st.Gid) != gid {
		t.Fatalf("%s: mode %o uid %d gid %d, want type %o perm %o uid %d gid %d",
			p, st.Mode, st.Uid, st.Gid, typ, perm, uid, gid)
	}
}

// capV2 is a revision 2 security.capability value granting
// cap_net_bind_service (bit 10) permitted+effective.
func capV2() string {
	b := make([]byte, 20)
	binary.LittleEndian.PutUint32(b, 0x02000000|1) // revision 2, effective
	binary.LittleEndian.PutUint32(b[4:], 1<<10)
	return string(b)
}

func testBasic(t *testing.T, f Factory) {
	s, view := f(t)
	mt := time.Date(2021, 5, 6, 7, 8, 9, 123456000, time.UTC)
	layer := Layer(t,
		Dir("etc"),
		Entry{Name: "etc/owned", Content: "x", Mode: 0o640, UID: 1000, GID: 2000, ModTime: mt},
		Entry{Name: "bin", Type: tar.TypeDir, Mode: 0o750, ModTime: mt},
		Entry{Name: "bin/suid", Content: "#!", Mode: 0o4755},
		Entry{Name: "bin/ping", Content: "elf", Mode: 0o755, Xattrs: map[string]string{
			"security.capability": capV2(), "user.note": "hello"}},
		Hardlink("bin/ping2", "bin/ping"),
		Symlink("bin/sh", "/bin/busybox"),
		Entry{Name: "rel", Type: tar.TypeSymlink, Linkname: "etc/owned", ModTime: mt, UID: 7, GID: 8},
		Entry{Name: "null", Type: tar.TypeChar, Mode: 0o666, Major: 1, Minor: 3},
		Entry{Name: "fifo", Type: tar.TypeFifo, Mode: 0o600},
	)
	info := apply(t, s, "base", nil, layer)
	if info.Key != "base" || info.Parent != "" || info.DiffSize != int64(len(layer)) {
		t.Fatalf("info %+v, want key base, no parent, diff size %d", info, len(layer))
	}
	if got, err := s.Stat("base"); err != nil || got != info {
		t.Fatalf("stat: %+v, %v; want %+v", got, err, info)
	}
	root := view(t, "base")
	wantContent(t, filepath.Join(root, "etc/owned"), "x")
	wantMode(t, filepath.Join(root, "etc/owned"), unix.S_IFREG, 0o640, 1000, 2000)
	wantMode(t, filepath.Join(root, "bin"), unix.S_IFDIR, 0o750, 0, 0)
	wantMode(t, filepath.Join(root, "bin/suid"), unix.S_IFREG, 0o4755, 0, 0)
	if st := lstat(t, filepath.Join(root, "etc/owned")); st.Mtim.Sec != mt.Unix() || st.Mtim.Nsec != int64(mt.Nanosecond()) {
		t.Fatalf("etc/owned mtime %v, want %v", time.Unix(st.Mtim.Unix()), mt)
	}
	// Directory times are set after their entries were created.
	if st := lstat(t, filepath.Join(root, "bin")); st.Mtim.Sec != mt.Unix() {
		t.Fatalf("bin mtime %v, want %v", time.Unix(st.Mtim.Unix()), mt)
	}
	a, b := lstat(t, filepath.Join(root, "bin/ping")), lstat(t, filepath.Join(root, "bin/ping2"))
	if a.Ino != b.Ino || a.Nlink != 2 {
		t.Fatalf("bin/ping2 is not a hardlink of bin/ping (inodes %d %d, nlink %d)", a.Ino, b.Ino, a.Nlink)
	}
	for name, want := range map[string]string{"security.capability": capV2(), "user.note": "hello"} {
		buf := make([]byte, 64)
		n, err := unix.Lgetxattr(filepath.Join(root, "bin/ping"), name, buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("xattr %s: %q, %v", name, buf[:n], err)
		}
	}
	if target, err := os.Readlink(filepath.Join(root, "bin/sh")); err != nil || target != "/bin/busybox" {
		t.Fatalf("bin/sh -> %q, %v", target, err)
	}
	if st := lstat(t, filepath.Join(root, "rel")); st.Uid != 7 || st.Gid != 8 || st.Mtim.Sec != mt.Unix() {
		t.Fatalf("symlink rel: uid %d gid %d mtime %d, want 7 8 %d", st.Uid, st.Gid, st.Mtim.Sec, mt.Unix())
	}
	if st := lstat(t, filepath.Join(root, "null")); st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != unix.Mkdev(1, 3) {
		t.Fatalf("null: mode %o rdev %x", st.Mode, st.Rdev)
	}
	wantMode(t, filepath.Join(root, "fifo"), unix.S_IFIFO, 0o600, 0, 0)
}

func testWhiteouts(t *testing.T, f Factory) {
	s, view := f(t)
	apply(t, s, "l1", nil, Layer(t,
		Dir("a"), File("a/keep", "1"), File("a/gone", "2"),
		Dir("b"), Dir("b/sub"), File("b/sub/x", "3"),
		Dir("c"), File("c/old", "4"), Dir("c/olddir"), File("c/olddir/y", "5"),
	))
	apply(t, s, "l2", []string{"l1"}, Layer(t,
		Whiteout("a", "gone"),
		Whiteout("", "b"),
		Opaque("c"), File("c/new", "6"),
		File("a/added", "7"),
		Whiteout("a", "added"), // a whiteout of this layer's own file is ignored
	))
	apply(t, s, "l3", []string{"l2", "l1"}, Layer(t, File("a/gone", "back")))
	root := view(t, "l2")
	wantContent(t, filepath.Join(root, "a/keep"), "1")
	wantContent(t, filepath.Join(root, "a/added"), "7")
	wantMissing(t, filepath.Join(root, "a/gone"))
	wantMissing(t, filepath.Join(root, "b"))
	wantContent(t, filepath.Join(root, "c/new"), "6")
	wantMissing(t, filepath.Join(root, "c/old"))
	wantMissing(t, filepath.Join(root, "c/olddir"))
	// The parent snapshot is unchanged.
	wantContent(t, filepath.Join(view(t, "l1"), "a/gone"), "2")
	wantContent(t, filepath.Join(view(t, "l3"), "a/gone"), "back")
}

func testOpaqueAfterEntries(t *testing.T, f Factory) {
	s, view := f(t)
	apply(t, s, "l1", nil, Layer(t, Dir("d"), File("d/lower", "x"), Dir("d/sub"), File("d/sub/lower", "y")))
	apply(t, s, "l2", []string{"l1"}, Layer(t, Dir("d"), Dir("d/sub"), File("d/sub/mine", "z"), Opaque("d")))
	root := view(t, "l2")
	wantContent(t, filepath.Join(root, "d/sub/mine"), "z")
	wantMissing(t, filepath.Join(root, "d/lower"))
	wantMissing(t, filepath.Join(root, "d/sub/lower"))
}

func testReplace(t *testing.T, f Factory) {
	s, view := f(t)
	apply(t, s, "l1", nil, Layer(t, Dir("p"), File("p/inner", "x"), File("q", "file"), Symlink("r", "p")))
	apply(t, s, "l2", []string{"l1"}, Layer(t, File("p", "now a file"), Dir("q"), File("q/inner", "y"), File("r", "not a link")))
	root := view(t, "l2")
	wantContent(t, filepath.Join(root, "p"), "now a file")
	wantContent(t, filepath.Join(root, "q/inner"), "y")
	wantContent(t, filepath.Join(root, "r"), "not a link")
	// Within one layer a later entry replaces an earlier one.
	apply(t, s, "one", nil, Layer(t, Dir("x"), File("x/f", "1"), File("x", "2")))
	wantContent(t, filepath.Join(view(t, "one"), "x"), "2")
}

func testImplicitParents(t *testing.T, f Factory) {
	s, view := f(t)
	apply(t, s, "l1", nil, Layer(t, Entry{Name: "d", Type: tar.TypeDir, Mode: 0o710, UID: 5, GID: 6}))
	apply(t, s, "l2", []string{"l1"}, Layer(t, File("d/f", "x"), File("new/deep/g", "y")))
	root := view(t, "l2")
	wantContent(t, filepath.Join(root, "d/f"), "x")
	wantMode(t, filepath.Join(root, "d"), unix.S_IFDIR, 0o710, 5, 6)
	wantMode(t, filepath.Join(root, "new/deep"), unix.S_IFDIR, 0o755, 0, 0)
}

// testEscapesRefused: "../" names and hardlinks out of the root fail the
// apply, and nothing is committed.
func testEscapesRefused(t *testing.T, f Factory) {
	outside := t.TempDir()
	for name, layer := range map[string][]byte{
		"dotdot":        Layer(t, File("../../../../../../"+outside+"/evil", "x")),
		"dotdot-inside": Layer(t, Dir("a"), File("a/../../evil", "x")),
		"hardlink":      Layer(t, Hardlink("h", "../../../../../../etc/passwd")),
	} {
		t.Run(name, func(t *testing.T) {
			s, _ := f(t)
			_, err := s.Apply(context.Background(), "k", nil, bytes.NewReader(layer), storage.ApplyOptions{})
			if !errdefs.IsInvalidArgument(err) {
				t.Fatalf("apply: %v, want an invalid-argument error", err)
			}
			if _, err := s.Stat("k"); !errdefs.IsNotFound(err) {
				t.Fatalf("snapshot committed after a refused layer: %v", err)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Fatalf("written outside the root: %v", ents)
			}
		})
	}
}

// testSymlinksResolveInside: writing through a symlink that points at "/",
// at a host path or climbs with "..", lands inside the root.
func testSymlinksResolveInside(t *testing.T, f Factory) {
	s, view := f(t)
	outside := t.TempDir()
	apply(t, s, "k", nil, Layer(t,
		Symlink("abs", "/"),
		File("abs/via-abs", "1"),
		Symlink("host", outside),
		File("host/via-host", "2"),
		Symlink("up", "../../../../../.."),
		File("up/via-up", "3"),
		Hardlink("hl", "abs/via-abs"),
	))
	root := view(t, "k")
	wantContent(t, filepath.Join(root, "via-abs"), "1")
	wantContent(t, filepath.Join(root, outside, "via-host"), "2")
	wantContent(t, filepath.Join(root, "via-up"), "3")
	wantContent(t, filepath.Join(root, "hl"), "1")
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Fatalf("written outside the root: %v", ents)
	}
	wantMissing(t, "/via-abs")
	wantMissing(t, "/via-up")
}

// failingReader returns its data, then err instead of io.EOF (a digest
// check failing at the end).
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

func testFailedRead(t *testing.T, f Factory) {
	s, _ := f(t)
	apply(t, s, "base", nil, Layer(t, File("a", "1")))
	bad := errors.New("digest mismatch")
	layer := Layer(t, File("b", string(make([]byte, 4000))))
	_, err := s.Apply(context.Background(), "k", []string{"base"}, &failingReader{bytes.NewReader(layer), bad}, storage.ApplyOptions{})
	if !errors.Is(err, bad) {
		t.Fatalf("apply: %v, want the reader's error", err)
	}
	if _, err := s.Stat("k"); !errdefs.IsNotFound(err) {
		t.Fatalf("snapshot committed after a failed read: %v", err)
	}
	// A truncated tar fails too.
	_, err = s.Apply(context.Background(), "k", []string{"base"}, bytes.NewReader(layer[:2000]), storage.ApplyOptions{})
	if err == nil {
		t.Fatal("a truncated layer applied")
	}
	if infos, _ := s.List(); len(infos) != 1 {
		t.Fatalf("snapshots after failed applies: %+v", infos)
	}
}

func testIDMapping(t *testing.T, f Factory) {
	s, view := f(t)
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	capV3 := make([]byte, 24)
	binary.LittleEndian.PutUint32(capV3, 0x03000000)
	binary.LittleEndian.PutUint32(capV3[4:], 1<<10)
	layer := Layer(t,
		Dir("home"),
		Entry{Name: "home/user", Content: "x", UID: 1000, GID: 1001},
		Entry{Name: "ping", Content: "y", Xattrs: map[string]string{"security.capability": string(capV3)}},
	)
	opts := storage.ApplyOptions{UIDMap: maps, GIDMap: maps}
	if _, err := s.Apply(context.Background(), "mapped", nil, bytes.NewReader(layer), opts); err != nil {
		t.Fatal(err)
	}
	root := view(t, "mapped")
	wantMode(t, filepath.Join(root, "home/user"), unix.S_IFREG, 0o644, 101000, 101001)
	wantMode(t, filepath.Join(root, "home"), unix.S_IFDIR, 0o755, 100000, 100000)
	buf := make([]byte, 64)
	n, err := unix.Lgetxattr(filepath.Join(root, "ping"), "security.capability", buf)
	if err != nil || n != 24 || binary.LittleEndian.Uint32(buf[20:]) != 100000 {
		t.Fatalf("security.capability root id not mapped: %x, %v", buf[:n], err)
	}
	unmapped := Layer(t, Entry{Name: "f", Content: "x", UID: 70000})
	if _, err := s.Apply(context.Background(), "bad", nil, bytes.NewReader(unmapped), opts); err == nil {
		t.Fatal("an unmapped uid was accepted")
	}
}

func testConcurrentApply(t *testing.T, f Factory) {
	s, view := f(t)
	layer := Layer(t, Dir("d"), File("d/f", "same"))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Apply(context.Background(), "k", nil, bytes.NewReader(layer), storage.ApplyOptions{})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent apply: %v", err)
		}
	}
	wantContent(t, filepath.Join(view(t, "k"), "d/f"), "same")
	if infos, _ := s.List(); len(infos) != 1 {
		t.Fatalf("snapshots: %+v", infos)
	}
}

func testListRemove(t *testing.T, f Factory) {
	s, _ := f(t)
	apply(t, s, "a", nil, Layer(t, File("1", "1")))
	apply(t, s, "b", []string{"a"}, Layer(t, File("2", "2")))
	infos, err := s.List()
	if err != nil || len(infos) != 2 {
		t.Fatalf("list: %+v, %v", infos, err)
	}
	layers, err := s.Layers("b")
	if err != nil || len(layers) == 0 {
		t.Fatalf("layers of b: %v, %v", layers, err)
	}
	if err := s.Remove("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Stat("b"); !errdefs.IsNotFound(err) {
		t.Fatalf("stat after remove: %v", err)
	}
	if err := s.Remove("b"); !errdefs.IsNotFound(err) {
		t.Fatalf("second remove: %v", err)
	}
	if s.ApplyNeedsParent() {
		_, err := s.Apply(context.Background(), "c", []string{"missing"}, bytes.NewReader(Layer(t, File("3", "3"))), storage.ApplyOptions{})
		if !errdefs.IsNotFound(err) {
			t.Fatalf("apply on a missing parent: %v", err)
		}
	}
	if err := s.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Layers("../x"); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("a bad key: %v", err)
	}
}
