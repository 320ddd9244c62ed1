// Package logs writes and reads container logs in docker's json-file
// format: one JSON object per line with the text, the stream (stdout or
// stderr) and a timestamp. It owns the format, tailing and following; the
// monitor decides what to log.
package logs

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Entry is one log line.
type Entry struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// Writer appends entries to a log file. It is safe for concurrent use by
// the stdout and stderr copiers.
type Writer struct {
	mu sync.Mutex
	f  *os.File
}

// Create opens path for appending, creating it if needed.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("open log %s: %w", path, err)
	}
	return &Writer{f: f}, nil
}

// Close closes the file.
func (w *Writer) Close() error { return w.f.Close() }

// Write logs one chunk of output of stream, one entry per line (a
// trailing partial line is its own entry, as docker does).
func (w *Writer) Write(stream string, data []byte) error {
	now := time.Now().UTC()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line = data[:i+1]
		}
		data = data[len(line):]
		if err := enc.Encode(Entry{Log: string(line), Stream: stream, Time: now}); err != nil {
			return err
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.f.Write(buf.Bytes())
	return err
}

// StreamWriter adapts a Writer to io.Writer for one stream.
func (w *Writer) StreamWriter(stream string) io.Writer {
	return streamWriter{w: w, stream: stream}
}

type streamWriter struct {
	w      *Writer
	stream string
}

func (s streamWriter) Write(p []byte) (int, error) {
	if err := s.w.Write(s.stream, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ReadOptions select what Read returns.
type ReadOptions struct {
	// Tail keeps only the last Tail entries (< 0: all).
	Tail int
	// Follow keeps reading as the file grows until Stop is closed.
	Follow bool
	// Stop ends a Follow; nil never ends.
	Stop <-chan struct{}
	// Poll is how often a followed file is checked (default 100ms).
	Poll time.Duration
}

// Read calls fn for each entry of the log at path.
func Read(path string, opts ReadOptions, fn func(Entry) error) error {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) && opts.Follow {
			return waitAndRead(path, opts, fn)
		}
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("open log %s: %w", path, err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var pending []Entry
	decode := func(line []byte) {
		var e Entry
		if json.Unmarshal(line, &e) == nil {
			pending = append(pending, e)
		}
	}
	// Existing content, tailed.
	for {
		line, err := r.ReadBytes('\n')
		if len(line) > 0 && line[len(line)-1] == '\n' {
			decode(line)
		} else if len(line) > 0 {
			// A line still being written: read it again when following.
			f.Seek(-int64(len(line)), io.SeekCurrent)
			r.Reset(f)
			break
		}
		if err != nil {
			break
		}
	}
	if opts.Tail >= 0 && len(pending) > opts.Tail {
		pending = pending[len(pending)-opts.Tail:]
	}
	for _, e := range pending {
		if err := fn(e); err != nil {
			return err
		}
	}
	if !opts.Follow {
		return nil
	}
	poll := opts.Poll
	if poll == 0 {
		poll = 100 * time.Millisecond
	}
	var partial []byte
	for {
		line, err := r.ReadBytes('\n')
		partial = append(partial, line...)
		if len(partial) > 0 && partial[len(partial)-1] == '\n' {
			var e Entry
			if json.Unmarshal(partial, &e) == nil {
				if err := fn(e); err != nil {
					return err
				}
			}
			partial = partial[:0]
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read log %s: %w", path, err)
		}
		select {
		case <-opts.Stop:
			return nil
		case <-time.After(poll):
		}
	}
}

// waitAndRead waits for a log that does not exist yet (a container that is
// starting) and then reads it.
func waitAndRead(path string, opts ReadOptions, fn func(Entry) error) error {
	for {
		if _, err := os.Stat(path); err == nil {
			return Read(path, opts, fn)
		}
		select {
		case <-opts.Stop:
			return nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}
