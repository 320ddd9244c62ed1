package v2

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The bpf(2) attribute layouts the device filter needs, prefixes of union
// bpf_attr in linux/bpf.h; the kernel zero-fills what a shorter attribute
// leaves out.

type progLoadAttr struct {
	progType           uint32
	insnCnt            uint32
	insns              uint64
	license            uint64
	logLevel           uint32
	logSize            uint32
	logBuf             uint64
	kernVersion        uint32
	progFlags          uint32
	progName           [16]byte
	progIfindex        uint32
	expectedAttachType uint32
}

type progAttachAttr struct {
	targetFD     uint32
	attachBPFFD  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBPFFD uint32
}

type progQueryAttr struct {
	targetFD    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCount   uint32
	_           uint32
}

type progGetFDAttr struct {
	progID    uint32
	nextID    uint32
	openFlags uint32
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// loadDeviceProgram loads a BPF_PROG_TYPE_CGROUP_DEVICE program and
// returns its fd. Since Linux 5.11 BPF memory is charged to the memory
// cgroup, not RLIMIT_MEMLOCK; on older kernels an EPERM may be the memlock
// limit, so the load is retried once with the soft limit raised to the
// hard one (raising it further needs CAP_SYS_RESOURCE), then the limit is
// put back, so that the container's init does not inherit it.
func loadDeviceProgram(prog []byte) (int, error) {
	fd, err := loadProgram(prog, nil)
	if errors.Is(err, unix.EPERM) {
		var old unix.Rlimit
		if unix.Getrlimit(unix.RLIMIT_MEMLOCK, &old) == nil && old.Cur < old.Max {
			raised := unix.Rlimit{Cur: old.Max, Max: old.Max}
			if unix.Setrlimit(unix.RLIMIT_MEMLOCK, &raised) == nil {
				fd, err = loadProgram(prog, nil)
				_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &old)
			}
		}
	}
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EACCES) {
		// The verifier refused it: load again with its log for the error.
		log := make([]byte, 64<<10)
		if _, lerr := loadProgram(prog, log); lerr != nil {
			msg := strings.TrimSpace(string(log[:max(0, strings.IndexByte(string(log), 0))]))
			return -1, fmt.Errorf("load device cgroup program: %w: %s", lerr, msg)
		}
	}
	if err != nil {
		return -1, fmt.Errorf("load device cgroup program: %w", err)
	}
	return fd, nil
}

func loadProgram(prog, log []byte) (int, error) {
	license := []byte("Apache-2.0\x00")
	attr := progLoadAttr{
		progType:           unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:            uint32(len(prog) / bpfInsnSize),
		insns:              uint64(uintptr(unsafe.Pointer(&prog[0]))),
		license:            uint64(uintptr(unsafe.Pointer(&license[0]))),
		expectedAttachType: unix.BPF_CGROUP_DEVICE,
	}
	copy(attr.progName[:], "tincan_devices")
	if len(log) > 0 {
		attr.logLevel, attr.logSize = 1, uint32(len(log))
		attr.logBuf = uint64(uintptr(unsafe.Pointer(&log[0])))
	}
	// The verifier gives up with EAGAIN when a signal is pending (a
	// child's SIGCHLD, the Go runtime's preemption signal): try again.
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	for tries := 1; (errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR)) && tries < 50; tries++ {
		fd, err = bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	}
	runtime.KeepAlive(prog)
	runtime.KeepAlive(license)
	runtime.KeepAlive(log)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}

// replaceDevicePrograms attaches the program progFD to the cgroup open at
// cgroupFD and then detaches the device programs attached there before,
// so that at no moment is the cgroup without a filter. BPF_F_ALLOW_MULTI
// lets the parents' programs still apply (a device is allowed only if
// every program allows it) and lets the container's own children attach
// theirs.
func replaceDevicePrograms(cgroupFD, progFD int) error {
	old, err := attachedDevicePrograms(cgroupFD)
	if err != nil {
		return err
	}
	attach := progAttachAttr{
		targetFD:    uint32(cgroupFD),
		attachBPFFD: uint32(progFD),
		attachType:  unix.BPF_CGROUP_DEVICE,
		attachFlags: unix.BPF_F_ALLOW_MULTI,
	}
	if _, err := bpf(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attach), unsafe.Sizeof(attach)); err != nil {
		return fmt.Errorf("attach device cgroup program: %w", err)
	}
	var errs []error
	for _, id := range old {
		get := progGetFDAttr{progID: id}
		fd, err := bpf(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&get), unsafe.Sizeof(get))
		if err != nil {
			if !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("open device cgroup program %d: %w", id, err))
			}
			continue
		}
		detach := progAttachAttr{targetFD: uint32(cgroupFD), attachBPFFD: uint32(fd), attachType: unix.BPF_CGROUP_DEVICE}
		if _, err := bpf(unix.BPF_PROG_DETACH, unsafe.Pointer(&detach), unsafe.Sizeof(detach)); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("detach device cgroup program %d: %w", id, err))
		}
		unix.Close(fd)
	}
	return errors.Join(errs...)
}

// attachedDevicePrograms lists the ids of the device programs attached to
// the cgroup itself (not those inherited from its parents).
func attachedDevicePrograms(cgroupFD int) ([]uint32, error) {
	ids := make([]uint32, 64)
	for {
		query := progQueryAttr{
			targetFD:   uint32(cgroupFD),
			attachType: unix.BPF_CGROUP_DEVICE,
			progIDs:    uint64(uintptr(unsafe.Pointer(&ids[0]))),
			progCount:  uint32(len(ids)),
		}
		_, err := bpf(unix.BPF_PROG_QUERY, unsafe.Pointer(&query), unsafe.Sizeof(query))
		runtime.KeepAlive(ids)
		if errors.Is(err, unix.ENOSPC) {
			ids = make([]uint32, query.progCount)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list device cgroup programs: %w", err)
		}
		return ids[:query.progCount], nil
	}
}
