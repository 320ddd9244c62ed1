package image

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ProgressMode says how pulls, pushes and loads report progress.
type ProgressMode int

const (
	// ProgressAuto draws bars on a terminal and prints lines otherwise.
	ProgressAuto ProgressMode = iota
	// ProgressLines prints one line per blob as it finishes.
	ProgressLines
	// ProgressQuiet prints nothing.
	ProgressQuiet
)

// Progress reports per-blob progress to a writer: on a terminal, one bar
// per blob redrawn in place (ANSI cursor movement, ten times a second);
// otherwise a line per finished blob; or nothing.
//
// A bar library (mpb) was tried first: it dropped lines printed above
// bars that finished before its first redraw, and its dependencies cost a
// quarter of a millisecond of package initialisation in every tincan
// process, container inits included. This is the part of it we need.
type Progress struct {
	w     io.Writer
	bars  bool
	mu    sync.Mutex
	tasks []*Task
	drawn int // lines of bars on the screen
	stop  chan struct{}
	done  chan struct{}
}

// NewProgress returns a reporter writing to w.
func NewProgress(w io.Writer, mode ProgressMode) *Progress {
	if mode == ProgressQuiet || w == nil {
		return nil
	}
	p := &Progress{w: w, bars: mode == ProgressAuto && isTerminal(w)}
	if p.bars {
		p.stop, p.done = make(chan struct{}), make(chan struct{})
		go p.redraw()
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// Printf prints a line (above the bars when drawing them).
func (p *Progress) Printf(format string, args ...any) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.settle()
	fmt.Fprintf(p.w, format+"\n", args...)
	p.draw()
}

// settle prints the bars for good once every task has finished, so what
// is printed next comes after them (p.mu held).
func (p *Progress) settle() {
	for _, t := range p.tasks {
		if !t.done {
			return
		}
	}
	p.draw()
	p.drawn, p.tasks = 0, nil
}

// Wait draws the bars a last time and stops redrawing.
func (p *Progress) Wait() {
	if p == nil || !p.bars {
		return
	}
	close(p.stop)
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clear()
	p.draw()
}

func (p *Progress) redraw() {
	defer close(p.done)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			p.mu.Lock()
			p.clear()
			p.draw()
			p.mu.Unlock()
		}
	}
}

// clear moves the cursor up over the bars and erases them (p.mu held).
func (p *Progress) clear() {
	if p.drawn > 0 {
		fmt.Fprintf(p.w, "\x1b[%dA\x1b[J", p.drawn)
		p.drawn = 0
	}
}

// draw prints one line per task (p.mu held).
func (p *Progress) draw() {
	if !p.bars || len(p.tasks) == 0 {
		return
	}
	width := 80
	if f, ok := p.w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 20 {
			width = int(ws.Col)
		}
	}
	var b strings.Builder
	for _, t := range p.tasks {
		line := t.line()
		if len(line) >= width {
			line = line[:width-1]
		}
		b.WriteString(line)
		b.WriteString("\n")
	}
	io.WriteString(p.w, b.String())
	p.drawn = len(p.tasks)
}

// Task is the progress of one blob.
type Task struct {
	p      *Progress
	label  string
	size   int64
	status string // guarded by p.mu, like current and done
	cur    int64
	done   bool
}

// Task starts reporting a blob of size bytes labelled label (a short
// digest) with status ("Waiting", "Pushing").
func (p *Progress) Task(label, status string, size int64) *Task {
	t := &Task{p: p, label: label, size: size, status: status}
	if p != nil && p.bars {
		p.mu.Lock()
		p.tasks = append(p.tasks, t)
		p.mu.Unlock()
	}
	return t
}

// line renders the task (p.mu held).
func (t *Task) line() string {
	if t.done || t.size <= 0 {
		return fmt.Sprintf("%s: %s", t.label, t.status)
	}
	const width = 30
	filled := int(t.cur * width / t.size)
	filled = min(max(filled, 0), width)
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	return fmt.Sprintf("%s: %-11s [%s] %s/%s", t.label, t.status, bar, humanBytes(t.cur), humanBytes(t.size))
}

// humanBytes prints a size in decimal units ("12.3MB").
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%cB", float64(n)/float64(div), "kMGTPE"[exp])
}

func (t *Task) update(fn func()) {
	if t.p == nil {
		return
	}
	t.p.mu.Lock()
	fn()
	t.p.mu.Unlock()
}

// SetStatus changes what the task says it does ("Downloading").
func (t *Task) SetStatus(s string) { t.update(func() { t.status = s }) }

// Add counts n more bytes done.
func (t *Task) Add(n int64) { t.update(func() { t.cur += n }) }

// SetCurrent sets how many bytes are done (a resumed download).
func (t *Task) SetCurrent(n int64) { t.update(func() { t.cur = n }) }

// Reader counts what is read through r.
func (t *Task) Reader(r io.Reader) io.Reader {
	if t.p == nil || !t.p.bars {
		return r
	}
	return &countReader{r: r, t: t}
}

type countReader struct {
	r io.Reader
	t *Task
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.t.Add(int64(n))
	return n, err
}

// Done ends the task with a status ("Pull complete", "Already exists"):
// on the bar, or as a line.
func (t *Task) Done(status string) {
	if t.p == nil {
		return
	}
	first := false
	t.update(func() {
		first = !t.done
		t.done, t.status = true, status
	})
	if first && !t.p.bars {
		t.p.Printf("%s: %s", t.label, status)
	}
}

// Fail ends the task after an error.
func (t *Task) Fail() { t.update(func() { t.done, t.status = true, "Failed" }) }
