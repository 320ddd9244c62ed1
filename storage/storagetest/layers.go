// Package storagetest is the test suite every snapshotter passes (Run),
// and helpers to build layer tars for tests. It is imported only from
// _test.go files.
package storagetest

import (
	"archive/tar"
	"bytes"
	"testing"
	"time"
)

// Entry is one tar entry of a test layer.
type Entry struct {
	Name     string
	Type     byte // tar.TypeReg when zero
	Content  string
	Mode     int64 // 0644 (files) or 0755 (directories) when zero
	UID, GID int
	Linkname string
	Major    int64
	Minor    int64
	ModTime  time.Time
	Xattrs   map[string]string
}

// Epoch is the modification time entries get when they set none.
var Epoch = time.Date(2020, 2, 3, 4, 5, 6, 0, time.UTC)

// File, Dir, Symlink, Hardlink, Whiteout and Opaque build common entries.
func File(name, content string) Entry { return Entry{Name: name, Content: content} }

// Dir is a directory entry.
func Dir(name string) Entry { return Entry{Name: name, Type: tar.TypeDir} }

// Symlink is a symbolic link entry.
func Symlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeSymlink, Linkname: target}
}

// Hardlink is a hard link to an earlier entry.
func Hardlink(name, target string) Entry {
	return Entry{Name: name, Type: tar.TypeLink, Linkname: target}
}

// Whiteout removes dir/name of the layers below.
func Whiteout(dir, name string) Entry { return File(join(dir, ".wh."+name), "") }

// Opaque hides what the layers below have in dir.
func Opaque(dir string) Entry { return File(join(dir, ".wh..wh..opq"), "") }

func join(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return dir + "/" + name
}

// Layer builds an uncompressed layer tar from entries (PAX format, so
// xattrs and sub-second times survive).
func Layer(t testing.TB, entries ...Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		typ := e.Type
		if typ == 0 {
			typ = tar.TypeReg
		}
		mode := e.Mode
		if mode == 0 {
			mode = 0o644
			if typ == tar.TypeDir {
				mode = 0o755
			}
		}
		mt := e.ModTime
		if mt.IsZero() {
			mt = Epoch
		}
		hdr := &tar.Header{
			Name: e.Name, Typeflag: typ, Mode: mode, Uid: e.UID, Gid: e.GID,
			Linkname: e.Linkname, Devmajor: e.Major, Devminor: e.Minor,
			ModTime: mt, Format: tar.FormatPAX,
		}
		if typ == tar.TypeReg {
			hdr.Size = int64(len(e.Content))
		}
		if len(e.Xattrs) > 0 {
			hdr.PAXRecords = map[string]string{}
			for k, v := range e.Xattrs {
				hdr.PAXRecords["SCHILY.xattr."+k] = v
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("layer entry %s: %v", e.Name, err)
		}
		if typ == tar.TypeReg {
			if _, err := tw.Write([]byte(e.Content)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
