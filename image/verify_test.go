package image

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/klauspost/compress/gzip"
	digest "github.com/opencontainers/go-digest"
)

func TestVerifier(t *testing.T) {
	data := []byte("layer data")
	d := digest.FromBytes(data)
	if got, err := io.ReadAll(newVerifier(bytes.NewReader(data), d, int64(len(data)))); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("a good stream: %q, %v", got, err)
	}
	for name, v := range map[string]*verifier{
		"wrong digest": newVerifier(bytes.NewReader(data), digest.FromString("other"), int64(len(data))),
		"short":        newVerifier(bytes.NewReader(data), d, int64(len(data))+1),
		"long":         newVerifier(bytes.NewReader(data), d, int64(len(data))-1),
	} {
		if _, err := io.ReadAll(v); !errors.Is(err, ErrDigestMismatch) {
			t.Errorf("%s: %v, want a mismatch", name, err)
		}
	}
	if _, err := io.ReadAll(newVerifier(bytes.NewReader(data), d, -1)); err != nil {
		t.Errorf("unknown size: %v", err)
	}
}

// TestLayerStream: the uncompressed stream reports the compressed
// digest's mismatch before its EOF, also when corruption breaks the
// decompressor first.
func TestLayerStream(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789"), 10000)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(payload)
	w.Close()
	blob := gz.Bytes()
	stream := func(b []byte, blobDigest digest.Digest) io.Reader {
		c := newVerifier(bytes.NewReader(b), blobDigest, int64(len(b)))
		zr, err := gzip.NewReader(c)
		if err != nil {
			t.Fatal(err)
		}
		return &layerStream{diff: newVerifier(zr, digest.FromBytes(payload), -1), compressed: c}
	}
	if got, err := io.ReadAll(stream(blob, digest.FromBytes(blob))); err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("a good layer: %d bytes, %v", len(got), err)
	}
	// Trailing bytes after the gzip stream change the blob's digest.
	withTrailer := append(append([]byte(nil), blob...), 0, 0, 0)
	if _, err := io.ReadAll(stream(withTrailer, digest.FromBytes(blob))); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("a blob longer than its digest: %v", err)
	}
	corrupt := append([]byte(nil), blob...)
	corrupt[len(corrupt)/2] ^= 0xff
	if _, err := io.ReadAll(stream(corrupt, digest.FromBytes(blob))); !errors.Is(err, ErrDigestMismatch) {
		t.Fatalf("a corrupt blob: %v, want the digest mismatch", err)
	}
}
