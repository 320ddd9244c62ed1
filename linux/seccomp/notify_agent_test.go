package seccomp

import (
	"errors"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// This file is the seccomp agent side of SCMP_ACT_NOTIFY, as much as the
// tests need: receive a notification, answer it. golang.org/x/sys has the
// ioctl numbers but not the structures.

// seccompNotif mirrors struct seccomp_notif.
type seccompNotif struct {
	id    uint64
	pid   uint32
	flags uint32
	data  struct {
		nr   int32
		arch uint32
		ip   uint64
		args [6]uint64
	}
}

// seccompNotifResp mirrors struct seccomp_notif_resp.
type seccompNotifResp struct {
	id    uint64
	val   int64
	error int32
	flags uint32
}

// receiveNotification waits for the next notification on listener.
func receiveNotification(listener int) (seccompNotif, error) {
	for {
		// The kernel wants the buffer zeroed.
		var n seccompNotif
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&n)))
		switch {
		case errno == unix.EINTR:
			continue
		case errno != 0:
			return n, errno
		}
		return n, nil
	}
}

// answerNotification makes the notified syscall return val, or fail with
// errno when errno is not 0.
func answerNotification(listener int, id uint64, val int64, errno unix.Errno) error {
	resp := seccompNotifResp{id: id, val: val, error: -int32(errno)}
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(listener), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return e
		}
		return nil
	}
}

// notifyAnswer says how to answer the n-th notification.
type notifyAnswer struct {
	Val   int64
	Errno int
}

// serveNotifications answers notifications on listener with answers in
// turn, checking that each is for syscall nr, until answers run out or
// the listener fails.
func serveNotifications(listener int, nr uint32, answers []notifyAnswer) error {
	for _, a := range answers {
		n, err := receiveNotification(listener)
		if err != nil {
			return err
		}
		if uint32(n.data.nr) != nr {
			return errors.New("notified of the wrong syscall")
		}
		if err := answerNotification(listener, n.id, a.Val, unix.Errno(a.Errno)); err != nil {
			return err
		}
	}
	return nil
}

func TestNotifyStructSizes(t *testing.T) {
	// _IOWR encodes the structure's size in bits 16 to 29.
	size := func(ioctl uint) uintptr { return uintptr(ioctl>>16) & 0x3fff }
	if got, want := unsafe.Sizeof(seccompNotif{}), size(unix.SECCOMP_IOCTL_NOTIF_RECV); got != want {
		t.Errorf("seccompNotif is %d bytes, the ioctl says %d", got, want)
	}
	if got, want := unsafe.Sizeof(seccompNotifResp{}), size(unix.SECCOMP_IOCTL_NOTIF_SEND); got != want {
		t.Errorf("seccompNotifResp is %d bytes, the ioctl says %d", got, want)
	}
}
