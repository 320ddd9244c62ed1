package image

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
)

// contentStore keeps blobs by digest:
//
//	<root>/blobs/<algorithm>/<hex>   verified blobs, never changed
//	<root>/ingest/<algorithm>-<hex>  partial downloads (resumed, then renamed)
//	<root>/tmp/                      small blobs being written
//
// A blob appears under blobs/ only by rename after its size and digest
// were checked, so a killed writer never leaves a corrupt blob visible.
type contentStore struct {
	root string
}

// checkDigest refuses digests that could not name a blob file (they come
// from manifests: untrusted input).
func checkDigest(d digest.Digest) error {
	if err := d.Validate(); err != nil {
		return errdefs.InvalidArgument("digest %q: %v", d, err)
	}
	return nil
}

func (c *contentStore) path(d digest.Digest) string {
	return filepath.Join(c.root, "blobs", string(d.Algorithm()), d.Encoded())
}

func (c *contentStore) has(d digest.Digest) bool {
	_, err := os.Stat(c.path(d))
	return err == nil
}

// open opens a blob for reading.
func (c *contentStore) open(d digest.Digest) (*os.File, error) {
	if err := checkDigest(d); err != nil {
		return nil, err
	}
	f, err := os.Open(c.path(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errdefs.NotFound("blob %s not found", d)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", d, err)
	}
	return f, nil
}

// maxSmallBlob bounds what read loads into memory (manifests, configs).
const maxSmallBlob = 16 << 20

// read returns a small blob's bytes.
func (c *contentStore) read(d digest.Digest) ([]byte, error) {
	f, err := c.open(d)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxSmallBlob+1))
	if err != nil {
		return nil, fmt.Errorf("read blob %s: %w", d, err)
	}
	if len(data) > maxSmallBlob {
		return nil, fmt.Errorf("blob %s: larger than %d bytes", d, maxSmallBlob)
	}
	return data, nil
}

// write stores data as blob d after checking that it is d.
func (c *contentStore) write(d digest.Digest, data []byte) error {
	if err := checkDigest(d); err != nil {
		return err
	}
	if got := d.Algorithm().FromBytes(data); got != d {
		return errDigestMismatch(d, got)
	}
	if c.has(d) {
		return nil
	}
	f, err := os.CreateTemp(filepath.Join(c.root, "tmp"), "blob-")
	if err != nil {
		return fmt.Errorf("write blob %s: %w", d, err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = c.commit(f.Name(), d)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write blob %s: %w", d, err)
	}
	return nil
}

// commit renames a checked file to blob d.
func (c *contentStore) commit(tmp string, d digest.Digest) error {
	dir := filepath.Dir(c.path(d))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.Rename(tmp, c.path(d))
}

func (c *contentStore) ingestPath(d digest.Digest) string {
	return filepath.Join(c.root, "ingest", string(d.Algorithm())+"-"+d.Encoded())
}

// ingest is a partial download of one blob, locked by its writer.
type ingest struct {
	f      *os.File
	digest digest.Digest
}

// startIngest opens (creating) the partial download of d and locks it;
// a second puller of the same blob waits here for the first.
func (c *contentStore) startIngest(d digest.Digest) (*ingest, error) {
	if err := checkDigest(d); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(c.ingestPath(d), os.O_RDWR|os.O_CREATE|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open download of %s: %w", d, err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock download of %s: %w", d, err)
	}
	return &ingest{f: f, digest: d}, nil
}

// size is how much has been downloaded.
func (i *ingest) size() (int64, error) {
	fi, err := i.f.Stat()
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// reset truncates the download (the registry ignored our range, or the
// data was wrong).
func (i *ingest) reset() error {
	if err := i.f.Truncate(0); err != nil {
		return fmt.Errorf("truncate download of %s: %w", i.digest, err)
	}
	_, err := i.f.Seek(0, io.SeekStart)
	return err
}

// discard removes the download (it was corrupt, or the disk is full).
func (i *ingest) discard(c *contentStore) {
	os.Remove(c.ingestPath(i.digest))
	i.f.Close()
}

// finish renames the complete, verified download to its blob.
func (i *ingest) finish(c *contentStore) error {
	err := c.commit(c.ingestPath(i.digest), i.digest)
	i.f.Close()
	if err != nil {
		return fmt.Errorf("store blob %s: %w", i.digest, err)
	}
	return nil
}

// dropIngest removes the partial download of d, if there is one and no
// other pull is writing it (that one decides for itself).
func (c *contentStore) dropIngest(d digest.Digest) {
	path := c.ingestPath(d)
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == nil {
		os.Remove(path)
	}
}

// close releases the download, keeping what it has for a later resume.
func (i *ingest) close() { i.f.Close() }

// walk calls fn for every stored blob.
func (c *contentStore) walk(fn func(d digest.Digest, size int64) error) error {
	algs, err := os.ReadDir(filepath.Join(c.root, "blobs"))
	if err != nil {
		return fmt.Errorf("list blobs: %w", err)
	}
	for _, alg := range algs {
		ents, err := os.ReadDir(filepath.Join(c.root, "blobs", alg.Name()))
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, e := range ents {
			d := digest.NewDigestFromEncoded(digest.Algorithm(alg.Name()), e.Name())
			if d.Validate() != nil {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			if err := fn(d, info.Size()); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *contentStore) remove(d digest.Digest) error {
	if err := os.Remove(c.path(d)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove blob %s: %w", d, err)
	}
	return nil
}

// ErrDigestMismatch is the class of content that is not what its digest
// or size says.
var ErrDigestMismatch = errors.New("digest mismatch")

type mismatchError struct{ msg string }

func (e *mismatchError) Error() string        { return e.msg }
func (e *mismatchError) Is(target error) bool { return target == ErrDigestMismatch }

func errDigestMismatch(want, got digest.Digest) error {
	return &mismatchError{fmt.Sprintf("digest mismatch: expected %s, got %s", want, got)}
}

func errSizeMismatch(d digest.Digest, want, got int64) error {
	return &mismatchError{fmt.Sprintf("size mismatch for %s: expected %d bytes, got %d", d, want, got)}
}
