package storage

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/errdefs"
)

func TestCleanName(t *testing.T) {
	for name, want := range map[string]string{
		"a/b": "a/b", "./a/b/": "a/b", "/etc/passwd": "etc/passwd", "a/../b": "b",
		"//x": "x", "./": ".", "a/./b/../c": "a/c",
	} {
		if got, err := cleanName(name); err != nil || got != want {
			t.Errorf("cleanName(%q) = %q, %v; want %q", name, got, err, want)
		}
	}
	for _, name := range []string{"..", "../a", "a/../../b", "/../x", "./../x"} {
		if _, err := cleanName(name); !errdefs.IsInvalidArgument(err) {
			t.Errorf("cleanName(%q): %v, want an invalid-argument error", name, err)
		}
	}
}

func TestDecompress(t *testing.T) {
	payload := bytes.Repeat([]byte("tincan layer "), 1000)
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(payload)
	gw.Close()
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(payload)
	zw.Close()
	for _, tc := range []struct {
		in   []byte
		want Compression
	}{{gz.Bytes(), Gzip}, {zs.Bytes(), Zstd}, {payload, Uncompressed}, {nil, Uncompressed}} {
		rc, c, err := Decompress(bytes.NewReader(tc.in))
		if err != nil || c != tc.want {
			t.Fatalf("Decompress: %v, %v; want %v", c, err, tc.want)
		}
		out, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: read: %v", c, err)
		}
		if len(tc.in) > 0 && !bytes.Equal(out, payload) {
			t.Fatalf("%s: wrong output (%d bytes)", c, len(out))
		}
	}
	if _, _, err := Decompress(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0})); err == nil {
		t.Fatal("a broken gzip header was accepted")
	}
}

func TestMapping(t *testing.T) {
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 1000, Size: 10}, {ContainerID: 100, HostID: 5000, Size: 1}}
	for id, want := range map[int]int{0: 1000, 9: 1009, 100: 5000} {
		if got, err := mapID(id, maps); err != nil || got != want {
			t.Errorf("mapID(%d) = %d, %v; want %d", id, got, err, want)
		}
	}
	for _, id := range []int{10, 99, 101} {
		if _, err := mapID(id, maps); err == nil {
			t.Errorf("mapID(%d) succeeded", id)
		}
	}
	if got, _ := mapID(42, nil); got != 42 {
		t.Errorf("no maps: %d", got)
	}
	v3 := make([]byte, 24)
	binary.LittleEndian.PutUint32(v3, vfsCapRevision3)
	binary.LittleEndian.PutUint32(v3[20:], 5)
	out, err := mapCapability(v3, maps)
	if err != nil || binary.LittleEndian.Uint32(out[20:]) != 1005 || binary.LittleEndian.Uint32(v3[20:]) != 5 {
		t.Fatalf("mapCapability: %x, %v", out, err)
	}
	v2 := make([]byte, 20)
	binary.LittleEndian.PutUint32(v2, 0x02000000)
	if out, _ := mapCapability(v2, maps); !bytes.Equal(out, v2) {
		t.Fatal("a revision 2 capability was changed")
	}
}

// FuzzApply feeds arbitrary tars to the applier: whatever it accepts or
// refuses, nothing appears outside the root.
func FuzzApply(f *testing.F) {
	f.Add([]byte{})
	f.Add(seedTar(f, tarEntry{"abs", tar.TypeSymlink, "/"}, tarEntry{"abs/x", tar.TypeReg, ""}))
	f.Add(seedTar(f, tarEntry{"up", tar.TypeSymlink, "../../.."}, tarEntry{"up/x", tar.TypeReg, ""}))
	f.Add(seedTar(f, tarEntry{"../x", tar.TypeReg, ""}, tarEntry{"h", tar.TypeLink, "../../etc/passwd"}))
	f.Add(seedTar(f, tarEntry{"d/.wh..wh..opq", tar.TypeReg, ""}, tarEntry{".wh.d", tar.TypeReg, ""}))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		root := filepath.Join(parent, "root")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		Apply(context.Background(), root, bytes.NewReader(data), ApplyOptions{})
		ents, err := os.ReadDir(parent)
		if err != nil || len(ents) != 1 || ents[0].Name() != "root" {
			t.Fatalf("entries beside the root: %v, %v", ents, err)
		}
	})
}

type tarEntry struct {
	name string
	typ  byte
	link string
}

func seedTar(f *testing.F, entries ...tarEntry) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		if err := tw.WriteHeader(&tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: 0o644}); err != nil {
			f.Fatal(err)
		}
	}
	tw.Close()
	return buf.Bytes()
}
