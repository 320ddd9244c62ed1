package engine

// The attach protocol, between a tincan CLI and a container's monitor, over
// the unix socket <run>/engine/<id>/attach.sock. Each frame is a type
// byte, a 4-byte big-endian payload length and the payload.
//
//	monitor -> CLI  frameStdout, frameStderr  output (from attach on)
//	monitor -> CLI  frameExit                 decimal exit status; last frame
//	CLI -> monitor  frameStart                start a container created for a
//	                                          foreground run (sent once the CLI
//	                                          listens, so no output is lost)
//	CLI -> monitor  frameStdin                input for the process
//	CLI -> monitor  frameCloseStdin           end of input
//	CLI -> monitor  frameResize               rows, cols (2 x uint16 BE)

import (
	"encoding/binary"
	"fmt"
	"io"
)

type frameType byte

const (
	frameStdout     frameType = 1
	frameStderr     frameType = 2
	frameExit       frameType = 3
	frameStart      frameType = 4
	frameStdin      frameType = 5
	frameCloseStdin frameType = 6
	frameResize     frameType = 7
)

// maxFrame bounds a payload so a corrupt length cannot exhaust memory.
const maxFrame = 1 << 20

func writeFrame(w io.Writer, t frameType, payload []byte) error {
	hdr := [5]byte{byte(t)}
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := w.Write(append(hdr[:], payload...)); err != nil {
		return err
	}
	return nil
}

func readFrame(r io.Reader) (frameType, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("attach frame of %d bytes is too large", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return frameType(hdr[0]), payload, nil
}

func resizePayload(rows, cols uint16) []byte {
	var b [4]byte
	binary.BigEndian.PutUint16(b[0:], rows)
	binary.BigEndian.PutUint16(b[2:], cols)
	return b[:]
}

func parseResize(p []byte) (rows, cols uint16, ok bool) {
	if len(p) != 4 {
		return 0, 0, false
	}
	return binary.BigEndian.Uint16(p[0:]), binary.BigEndian.Uint16(p[2:]), true
}
