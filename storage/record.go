package storage

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tincan/tincan/errdefs"
)

// recordFile is the name of the record beside a snapshot's files.
const recordFile = "info.json"

// Record is what a snapshotter keeps beside a snapshot's files.
type Record struct {
	Info
	// Lowers are the ancestors' keys, parent first (overlay only), so
	// Layers needs one read, not one per ancestor.
	Lowers []string `json:"lowers,omitempty"`
	// Implicit are directories the layer created without listing them,
	// still to be settled against the complete lowers (overlay only;
	// emptied by the snapshotter's Settle).
	Implicit []string `json:"implicit,omitempty"`
}

// ReadRecord reads the record of the snapshot directory dir.
func ReadRecord(dir string) (Record, error) {
	var r Record
	data, err := os.ReadFile(filepath.Join(dir, recordFile))
	if errors.Is(err, os.ErrNotExist) {
		return r, errdefs.NotFound("snapshot %s not found", filepath.Base(dir))
	}
	if err != nil {
		return r, fmt.Errorf("read snapshot %s: %w", filepath.Base(dir), err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("read snapshot %s: %w", filepath.Base(dir), err)
	}
	return r, nil
}

// WriteRecord writes r into the (staging) snapshot directory dir. The
// directory is renamed into place afterwards, so no temporary file is
// needed.
func WriteRecord(dir string, r Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, recordFile), data, 0o644); err != nil {
		return fmt.Errorf("write snapshot record: %w", err)
	}
	return nil
}

// ReplaceRecord rewrites the record of the committed snapshot directory
// dir atomically (a temporary file renamed over it).
func ReplaceRecord(dir string, r Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+recordFile+"-*")
	if err != nil {
		return fmt.Errorf("rewrite snapshot record: %w", err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, recordFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("rewrite snapshot record: %w", err)
	}
	return nil
}

// RemoveDir removes a snapshot directory: first renamed under root/tmp so
// that a half-removed snapshot is never found under its key.
func RemoveDir(root, key string) error {
	if err := ValidKey(key); err != nil {
		return err
	}
	staging, err := StagingDir(root)
	if err != nil {
		return err
	}
	doomed := filepath.Join(staging, key)
	if err := os.Rename(filepath.Join(root, key), doomed); err != nil {
		os.Remove(staging)
		if errors.Is(err, os.ErrNotExist) {
			return errdefs.NotFound("snapshot %s not found", key)
		}
		return fmt.Errorf("remove snapshot %s: %w", key, err)
	}
	if err := os.RemoveAll(staging); err != nil {
		return fmt.Errorf("remove snapshot %s: %w", key, err)
	}
	return nil
}

// CleanupStaging removes root/tmp: the leftovers of interrupted Apply and
// Remove calls.
func CleanupStaging(root string) error {
	if err := os.RemoveAll(filepath.Join(root, "tmp")); err != nil {
		return fmt.Errorf("clean up %s: %w", root, err)
	}
	return nil
}

// ListRecords reads the records of every snapshot under root.
func ListRecords(root string) ([]Info, error) {
	keys, err := ListDirs(root)
	if err != nil {
		return nil, err
	}
	infos := make([]Info, 0, len(keys))
	for _, k := range keys {
		r, err := ReadRecord(filepath.Join(root, k))
		if err != nil {
			// A directory without a record is not a snapshot (yet).
			continue
		}
		infos = append(infos, r.Info)
	}
	return infos, nil
}
