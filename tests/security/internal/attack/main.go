// Command attack runs inside the containers of the security tests and
// tries one escape or privilege gain per subcommand, printing what the
// kernel answered as "key=value" lines (value "ok" or the errno's name).
// It is built static (CGO_ENABLED=0) and copied into the test's rootfs.
// It never changes what it manages to reach (a write puts back the byte
// that was there): the tests only need to know
// whether an attack would have worked. Where a call would change the
// machine if it were allowed (mount, sethostname), it is made so that it
// changes nothing even then: a filesystem type that does not exist, the
// current hostname. It refuses to run without $TINCAN_ATTACK_IN_CONTAINER,
// which only the tests' container configs set.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: attack SUBCOMMAND [ARGS]")
		os.Exit(2)
	}
	if os.Getenv("TINCAN_ATTACK_IN_CONTAINER") != "1" {
		fmt.Fprintln(os.Stderr, "attack: runs only inside the security tests' containers")
		os.Exit(2)
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "syscalls":
		syscalls()
	case "exe-hold":
		exeHold(args[0], args[1])
	case "fds":
		fds()
	case "cwd":
		cwd()
	case "raise-cap":
		raiseCap()
	case "ids":
		ids()
	case "read":
		for _, p := range args {
			read(p)
		}
	default:
		fmt.Fprintf(os.Stderr, "attack: unknown subcommand %q\n", os.Args[1])
		os.Exit(2)
	}
}

func report(key string, err error) {
	if err == nil {
		fmt.Printf("%s=ok\n", key)
		return
	}
	if e, ok := err.(unix.Errno); ok {
		fmt.Printf("%s=%s\n", key, unix.ErrnoName(e))
		return
	}
	if pe, ok := err.(*os.PathError); ok {
		report(key, pe.Err)
		return
	}
	fmt.Printf("%s=%v\n", key, err)
}

func rawErr(nr, a1, a2, a3 uintptr) error {
	_, _, e := unix.RawSyscall(nr, a1, a2, a3)
	if e != 0 {
		return e
	}
	return nil
}

// syscalls makes the calls Docker's default profile blocks.
func syscalls() {
	// KEYCTL_GET_KEYRING_ID of the session keyring: allowed by the kernel
	// to anyone, so an error comes from the filter.
	report("keyctl", rawErr(unix.SYS_KEYCTL, 0, uintptr(0xfffffffd), 0))
	// A thread's unshare affects only it; this process ends right after.
	report("unshare-user", rawErr(unix.SYS_UNSHARE, unix.CLONE_NEWUSER, 0, 0))
	report("mount", harmlessMount())
	report("socket-alg", func() error {
		fd, err := unix.Socket(unix.AF_ALG, unix.SOCK_SEQPACKET, 0)
		if err == nil {
			unix.Close(fd)
		}
		return err
	}())
	report("getpid", rawErr(unix.SYS_GETPID, 0, 0, 0))
}

// exeHold is the second form of the CVE-2019-5736 exploit, run in a
// container that shares the pid namespace of a created (not started)
// container: hold an O_PATH handle on the waiting init's executable (the
// runtime binary), and once the init has executed the container's program,
// reopen the handle for writing.
func exeHold(dir, pid string) {
	exe := "/proc/" + pid + "/exe"
	f, err := os.OpenFile(exe, unix.O_PATH, 0)
	if err != nil {
		// A non-dumpable init hides its executable from the container
		// altogether: the strongest outcome, reported as such.
		writeResult(dir, "hold", err)
		os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644)
		os.WriteFile(filepath.Join(dir, "done"), nil, 0o644)
		return
	}
	// Right away, while the runtime binary runs.
	if w, err := os.OpenFile(exe, os.O_WRONLY, 0); err == nil {
		w.Close()
		writeResult(dir, "write-while-waiting", nil)
	} else {
		writeResult(dir, "write-while-waiting", err)
	}
	os.WriteFile(filepath.Join(dir, "ready"), nil, 0o644)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			writeResult(dir, "timeout", nil)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	writeResult(dir, "reopen-after-start", rewriteFirstByte("/proc/self/fd/"+strconv.Itoa(int(f.Fd()))))
	os.WriteFile(filepath.Join(dir, "done"), nil, 0o644)
}

// rewriteFirstByte opens path for reading and writing and writes its first
// byte back unchanged: it succeeds exactly when the file could have been
// overwritten, and changes nothing either way.
func rewriteFirstByte(path string) error {
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	b := make([]byte, 1)
	if _, err := w.ReadAt(b, 0); err != nil {
		return err
	}
	_, err = w.WriteAt(b, 0)
	return err
}

func writeResult(dir, key string, err error) {
	v := "ok"
	if err != nil {
		var e unix.Errno
		if pe, ok := err.(*os.PathError); ok {
			err = pe.Err
		}
		if errno, ok := err.(unix.Errno); ok {
			e = errno
			v = unix.ErrnoName(e)
		} else {
			v = err.Error()
		}
	}
	f, _ := os.OpenFile(filepath.Join(dir, "result"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	fmt.Fprintf(f, "%s=%s\n", key, v)
	f.Close()
}

// fds lists the open fds and what they are.
func fds() {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		report("open-fd-dir", err)
		return
	}
	names, _ := d.Readdirnames(-1)
	sort.Strings(names)
	for _, n := range names {
		if n == strconv.Itoa(int(d.Fd())) {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + n)
		if err != nil {
			target = "?"
		}
		fmt.Printf("fd%s=%s\n", n, target)
	}
}

// cwd prints the working directory as the kernel reports it.
func cwd() {
	buf := make([]byte, 4096)
	n, err := unix.Getcwd(buf)
	if err != nil {
		report("cwd", err)
		return
	}
	fmt.Printf("cwd=%s\n", strings.TrimRight(string(buf[:n]), "\x00"))
}

// raiseCap tries to get CAP_SYS_ADMIN back after the runtime dropped it.
func raiseCap() {
	const capSysAdmin = 21
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		report("capget", err)
		return
	}
	data[0].Effective |= 1 << capSysAdmin
	data[0].Permitted |= 1 << capSysAdmin
	report("capset", capset(&hdr, &data))
	report("ambient-raise", unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, capSysAdmin, 0, 0))
	report("sethostname", sameHostname())
	report("mount", harmlessMount())
	status, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(k, "Cap") {
			fmt.Printf("%s=%s\n", k, strings.TrimSpace(v))
		}
	}
}

// harmlessMount asks to mount a filesystem type no kernel has: EPERM when
// mounting is not allowed, ENODEV when it is (and nothing is mounted).
func harmlessMount() error {
	return unix.Mount("none", "/", "tincan-no-such-fs", 0, "")
}

// sameHostname sets the hostname to what it is: EPERM when not allowed.
func sameHostname() error {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return err
	}
	return unix.Sethostname([]byte(unix.ByteSliceToString(u.Nodename[:])))
}

func capset(hdr *unix.CapUserHeader, data *[2]unix.CapUserData) error {
	_, _, e := unix.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
	if e != 0 {
		return e
	}
	return nil
}

// ids prints the real and effective user ids (a setuid copy shows
// whether the bit took effect).
func ids() {
	fmt.Printf("uid=%d\neuid=%d\n", os.Getuid(), os.Geteuid())
}

// read reads a file and says how many bytes it got.
func read(p string) {
	data, err := os.ReadFile(p)
	if err != nil {
		report("read "+p, err)
		return
	}
	fmt.Printf("read %s=ok:%d\n", p, len(data))
}
