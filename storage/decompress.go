package storage

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Compression is how a layer stream is compressed.
type Compression string

// The compressions layers come in.
const (
	Uncompressed Compression = "none"
	Gzip         Compression = "gzip"
	Zstd         Compression = "zstd"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Decompress returns the uncompressed stream of r, telling gzip and zstd
// apart by their magic numbers (media types are not always right about
// it). Close releases the decoder; it does not close r.
//
// klauspost/compress decodes gzip about twice as fast as compress/gzip,
// and the standard library has no zstd.
func Decompress(r io.Reader) (io.ReadCloser, Compression, error) {
	br := bufio.NewReaderSize(r, 128<<10)
	magic, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, "", fmt.Errorf("read layer: %w", err)
	}
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", fmt.Errorf("read gzip layer: %w", err)
		}
		return zr, Gzip, nil
	case bytes.HasPrefix(magic, zstdMagic):
		// One goroutine: streams are decoded as they arrive, and a
		// synchronous decoder has nothing to leak if the caller stops.
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, "", fmt.Errorf("read zstd layer: %w", err)
		}
		return zr.IOReadCloser(), Zstd, nil
	}
	return io.NopCloser(br), Uncompressed, nil
}
