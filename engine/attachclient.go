package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/linux/console"
	"github.com/tincan/tincan/runtime"
)

// Attachment is a CLI's connection to a container's monitor.
type Attachment struct {
	conn *net.UnixConn
	s    *Store
	rec  *Record
}

// Attach connects to the monitor of a running (or starting) container.
func (s *Store) Attach(rec *Record) (*Attachment, error) {
	conn, err := dialUnix(s.AttachSocket(rec.ID))
	if err != nil {
		return nil, fmt.Errorf("attach to %s: %w", rec.Name, err)
	}
	return &Attachment{conn: conn, s: s, rec: rec}, nil
}

// SendStart asks the monitor of a foreground run to start the container.
// A terminal gets the caller's size first (the monitor handles the frames
// in order), so the program finds it from its first instruction.
func (a *Attachment) SendStart() error {
	if a.rec.Config.Tty && console.IsTerminal(os.Stdin) {
		a.sendSize(os.Stdin)
	}
	return writeFrame(a.conn, frameStart, nil)
}

// StreamOptions say which of the caller's streams to connect.
type StreamOptions struct {
	Stdin          *os.File // nil: no input
	Stdout, Stderr io.Writer
	// Tty: the container has a terminal; the caller's is put in raw mode
	// and its size follows the caller's.
	Tty bool
	// ProxySignals forwards the caller's signals to the container (for a
	// process without a terminal, where ^C is a signal, not a byte).
	ProxySignals bool
}

// Stream relays until the container exits and returns its exit status.
func (a *Attachment) Stream(o StreamOptions) (int, error) {
	defer a.conn.Close()
	if o.Tty && o.Stdin != nil && console.IsTerminal(o.Stdin) {
		if restore, err := console.MakeRaw(o.Stdin); err == nil {
			defer restore()
		}
		a.sendSize(o.Stdin)
		winch := make(chan os.Signal, 1)
		signal.Notify(winch, unix.SIGWINCH)
		defer signal.Stop(winch)
		go func() {
			for range winch {
				a.sendSize(o.Stdin)
			}
		}()
	}
	if o.ProxySignals {
		sigs := make(chan os.Signal, 16)
		signal.Notify(sigs, unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2)
		defer signal.Stop(sigs)
		go a.proxySignals(sigs)
	}
	if o.Stdin != nil {
		go a.copyStdin(o.Stdin)
	}
	for {
		t, payload, err := readFrame(a.conn)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return a.exitStatusFromRecord()
			}
			return 0, fmt.Errorf("attach to %s: %w", a.rec.Name, err)
		}
		switch t {
		case frameStdout:
			o.Stdout.Write(payload)
		case frameStderr:
			o.Stderr.Write(payload)
		case frameExit:
			code, err := strconv.Atoi(string(payload))
			if err != nil {
				return 0, fmt.Errorf("attach to %s: bad exit status %q", a.rec.Name, payload)
			}
			return code, nil
		}
	}
}

// exitStatusFromRecord is the status when the monitor closed without an
// exit frame (it was killed): the record's, once the container is gone.
func (a *Attachment) exitStatusFromRecord() (int, error) {
	return a.s.Wait(a.rec.ID)
}

func (a *Attachment) sendSize(tty *os.File) {
	if rows, cols, err := console.Winsize(tty); err == nil {
		writeFrame(a.conn, frameResize, resizePayload(rows, cols))
	}
}

func (a *Attachment) copyStdin(in *os.File) {
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if writeFrame(a.conn, frameStdin, buf[:n]) != nil {
				return
			}
		}
		if err != nil {
			writeFrame(a.conn, frameCloseStdin, nil)
			return
		}
	}
}

func (a *Attachment) proxySignals(sigs chan os.Signal) {
	for sig := range sigs {
		if c, err := runtime.Load(a.s.Run, a.rec.ID); err == nil {
			c.Kill(sig.(unix.Signal), false)
		}
	}
}
