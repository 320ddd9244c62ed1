// Package logging writes tincan-oci's log lines the way engines read
// runc's: to --log (a file, or stderr when unset) as text
// (`time="..." level=error msg="..."`) or, with --log-format json, one JSON
// object per line with "level", "msg" and "time" (containerd shows the
// last "error" line of that file when a command fails).
//
// Without --log and in text format, lines go to stderr in a form meant for
// people: "tincan-oci: warning: ...".
//
// It owns the line formats and levels; what to log is decided by callers.
package logging

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"time"
)

// Format is a log line format.
type Format string

// Formats.
const (
	Text Format = "text"
	JSON Format = "json"
)

// Logger writes leveled lines.
type Logger struct {
	mu     sync.Mutex
	out    io.Writer
	file   *os.File // non-nil when out is a file we opened
	format Format
	debug  bool
	prog   string
}

// New opens path for appending (stderr when path is empty); prog prefixes
// the lines people read on stderr.
func New(path string, format Format, debug bool, prog string) (*Logger, error) {
	if format != Text && format != JSON {
		return nil, fmt.Errorf("--log-format: unknown format %q (text or json)", format)
	}
	l := &Logger{out: os.Stderr, format: format, debug: debug, prog: prog}
	if path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_SYNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open log file %s: %w", path, err)
		}
		l.out, l.file = f, f
	}
	return l, nil
}

// ToFile reports whether lines go to a file rather than stderr.
func (l *Logger) ToFile() bool { return l.file != nil }

// Close closes the log file.
func (l *Logger) Close() error {
	if l.file != nil {
		return l.file.Close()
	}
	return nil
}

// Errorf logs at level error.
func (l *Logger) Errorf(format string, args ...any) { l.write("error", format, args) }

// Warnf logs at level warning.
func (l *Logger) Warnf(format string, args ...any) { l.write("warning", format, args) }

// Infof logs at level info.
func (l *Logger) Infof(format string, args ...any) { l.write("info", format, args) }

// Debugf logs at level debug when debugging is on.
func (l *Logger) Debugf(format string, args ...any) {
	if l.debug {
		l.write("debug", format, args)
	}
}

// DebugEnabled reports whether debug lines are written.
func (l *Logger) DebugEnabled() bool { return l.debug }

func (l *Logger) write(level, format string, args []any) {
	msg := fmt.Sprintf(format, args...)
	now := time.Now().Format(time.RFC3339Nano)
	var line []byte
	switch {
	case l.format == JSON:
		line, _ = json.Marshal(struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Time  string `json:"time"`
		}{level, msg, now})
	case l.file == nil && level == "error":
		line = fmt.Appendf(nil, "%s: %s", l.prog, msg)
	case l.file == nil:
		line = fmt.Appendf(nil, "%s: %s: %s", l.prog, level, msg)
	default:
		line = fmt.Appendf(nil, "time=%q level=%s msg=%s", now, level, strconv.Quote(msg))
	}
	line = append(line, '\n')
	l.mu.Lock()
	l.out.Write(line)
	l.mu.Unlock()
}
