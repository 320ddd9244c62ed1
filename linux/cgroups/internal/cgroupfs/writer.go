package cgroupfs

import (
	"errors"
	"strings"
)

// Writer writes the interface files of one Set or Update. For an update of
// a running container it can keep a journal: before the first write to a
// file (or to one entry of a keyed file) it reads what is there, and
// Rollback writes that back, newest first, so that an update the kernel
// refuses half-way leaves the cgroup as it was. A new container's cgroup
// needs no journal (a failed create removes it), and then nothing is read.
type Writer struct {
	journal bool
	undo    []undoWrite
	seen    map[string]bool
}

type undoWrite struct {
	path  string
	value string
}

// NewWriter returns a writer, with a journal if journal is set.
func NewWriter(journal bool) *Writer {
	return &Writer{journal: journal, seen: make(map[string]bool)}
}

// Write writes value to the file at path in one write(2). The journal
// saves the file's content, which must read back in the form it is written
// (one value: memory.max, cpu.max, pids.max, cpu.shares).
func (w *Writer) Write(path, value string) error {
	if w.journal && !w.seen[path] {
		w.seen[path] = true
		if old, err := ReadFile(path); err == nil {
			w.undo = append(w.undo, undoWrite{path, old})
		}
	}
	return WriteFile(path, value)
}

// WriteUndo writes value to path, journaling undo as what puts the file
// back, for files whose content does not read back as it is written
// (memory.oom_control).
func (w *Writer) WriteUndo(path, value, undo string) error {
	if w.journal && !w.seen[path] {
		w.seen[path] = true
		w.undo = append(w.undo, undoWrite{path, undo})
	}
	return WriteFile(path, value)
}

// WriteEntry writes the line "key value" to a keyed file that takes one
// entry per write and lists entries as "key value" lines (blkio.throttle.*,
// io.max, io.weight, rdma.max, net_prio.ifpriomap). The journal saves the
// key's current line, or "key reset" (what removes the entry) when the file
// has none (nothing to put back when reset is "").
func (w *Writer) WriteEntry(path, key, value, reset string) error {
	id := path + "\x00" + key
	if w.journal && !w.seen[id] {
		w.seen[id] = true
		if content, err := ReadFile(path); err == nil {
			old := ""
			if reset != "" {
				old = key + " " + reset
			}
			for _, line := range strings.Split(content, "\n") {
				if strings.HasPrefix(line, key+" ") {
					old = line
				}
			}
			if old != "" {
				w.undo = append(w.undo, undoWrite{path, old})
			}
		}
	}
	return WriteFile(path, key+" "+value)
}

// Rollback writes back what the journal saved, newest first, and empties
// it. Every write is tried; the errors of those that fail are returned.
func (w *Writer) Rollback() error {
	var errs []error
	for i := len(w.undo) - 1; i >= 0; i-- {
		u := w.undo[i]
		if u.value == "" {
			// An empty write is no write: the kernel never sees it.
			u.value = "\n"
		}
		if err := WriteFile(u.path, u.value); err != nil {
			errs = append(errs, err)
		}
	}
	w.undo = nil
	return errors.Join(errs...)
}
