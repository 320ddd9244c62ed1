package image

import (
	_ "crypto/sha256" // registers the digest algorithm with crypto
	_ "crypto/sha512"
	"errors"
	"hash"
	"io"

	digest "github.com/opencontainers/go-digest"
)

// verifier passes a stream through, hashing it, and at its end checks the
// size and digest: it returns a mismatch error instead of io.EOF, so a
// consumer (the layer applier) fails before it commits anything.
type verifier struct {
	r    io.Reader
	h    hash.Hash
	want digest.Digest
	size int64 // -1: not known in advance
	n    int64
}

func newVerifier(r io.Reader, want digest.Digest, size int64) *verifier {
	return &verifier{r: r, h: want.Algorithm().Hash(), want: want, size: size}
}

func (v *verifier) Read(p []byte) (int, error) {
	n, err := v.r.Read(p)
	if n > 0 {
		v.h.Write(p[:n])
		v.n += int64(n)
		if v.size >= 0 && v.n > v.size {
			return n, errSizeMismatch(v.want, v.size, v.n)
		}
	}
	if err == io.EOF {
		if v.size >= 0 && v.n != v.size {
			return n, errSizeMismatch(v.want, v.size, v.n)
		}
		if got := digest.NewDigest(v.want.Algorithm(), v.h); got != v.want {
			return n, errDigestMismatch(v.want, got)
		}
	}
	return n, err
}

// layerStream is a layer's uncompressed stream for the applier. At the
// end of the uncompressed data it reads the compressed stream to its end
// too, so the compressed digest is checked (and its error reported)
// before the applier sees EOF and commits. When decompression fails, the
// rest of the blob is read as well: a digest mismatch, if there is one,
// is the error that explains it.
type layerStream struct {
	diff       io.Reader // verifier of the diff ID over the decompressor
	compressed io.Reader // verifier of the blob digest
}

func (l *layerStream) Read(p []byte) (int, error) {
	n, err := l.diff.Read(p)
	switch {
	case err == nil:
	case err == io.EOF:
		if _, derr := io.Copy(io.Discard, l.compressed); derr != nil {
			return n, derr
		}
	case !errors.Is(err, ErrDigestMismatch):
		if _, derr := io.Copy(io.Discard, l.compressed); errors.Is(derr, ErrDigestMismatch) {
			return n, derr
		}
	}
	return n, err
}
