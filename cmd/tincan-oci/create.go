package main

import (
	"flag"
	"os"
	"strconv"
	"strings"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

// createFlags are the flags create and run share.
type createFlags struct {
	bundle        string
	consoleSocket string
	pidFile       string
	noPivot       bool
	noNewKeyring  bool
	preserveFDs   int
}

func (f *createFlags) define(fs *flag.FlagSet) {
	cli.StringVarP(fs, &f.bundle, "bundle", "b", "", "path to the root of the bundle directory, defaults to the current directory")
	fs.StringVar(&f.consoleSocket, "console-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
	fs.StringVar(&f.pidFile, "pid-file", "", "specify the file to write the process id to")
	fs.BoolVar(&f.noPivot, "no-pivot", false, "do not use pivot root to jail process inside rootfs; use this when the rootfs is on top of a ramdisk")
	fs.BoolVar(&f.noNewKeyring, "no-new-keyring", false, "do not create a new session keyring for the container")
	fs.IntVar(&f.preserveFDs, "preserve-fds", 0, "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)")
}

// options turns the flags into runtime options for container id.
func (f *createFlags) options(id string) (runtime.CreateOptions, error) {
	if global.systemdCgroup {
		if _, err := os.Stat("/run/systemd/system"); err != nil {
			return runtime.CreateOptions{}, errdefs.Unsupported("--systemd-cgroup: systemd is not running on this host; use cgroupfs paths")
		}
		return runtime.CreateOptions{}, errdefs.Unsupported("--systemd-cgroup: the systemd cgroup driver is not supported yet; use cgroupfs paths")
	}
	rootless, err := rootlessMode()
	if err != nil {
		return runtime.CreateOptions{}, err
	}
	if f.preserveFDs < 0 {
		return runtime.CreateOptions{}, errdefs.InvalidArgument("--preserve-fds: must not be negative")
	}
	bundle := f.bundle
	if bundle == "" {
		bundle = "."
	}
	return runtime.CreateOptions{
		Root:          global.root,
		ID:            id,
		Bundle:        bundle,
		ConsoleSocket: f.consoleSocket,
		PidFile:       f.pidFile,
		NoPivot:       f.noPivot,
		NoNewKeyring:  f.noNewKeyring,
		PreserveFDs:   f.preserveFDs,
		ListenFDs:     listenFDs(),
		Rootless:      rootless,
		Stdin:         os.Stdin,
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
		Debug:         global.debug,
		Log:           global.log,
	}, nil
}

// listenFDs is the number of socket-activation fds passed to us by
// systemd (only when they are meant for this process).
func listenFDs() int {
	if os.Getenv("LISTEN_PID") != strconv.Itoa(os.Getpid()) {
		return 0
	}
	n, err := strconv.Atoi(os.Getenv("LISTEN_FDS"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func createCommand() *cli.Command {
	var f createFlags
	return &cli.Command{
		Name:    "create",
		Args:    "<container-id>",
		Summary: "create a container",
		Help: `Create a container from a bundle (a directory with config.json and a root
filesystem). The container's process is set up and waits until "start".`,
		Flags: f.define,
		Run: func(args []string) error {
			id, err := oneID("create", args)
			if err != nil {
				return err
			}
			opts, err := f.options(id)
			if err != nil {
				return err
			}
			c, err := runtime.Create(opts)
			if err != nil {
				return err
			}
			c.Unlock()
			return nil
		},
	}
}

// rootlessMode reads --rootless: true, false, or auto (rootless when not
// root in the initial user namespace), as runc does.
func rootlessMode() (bool, error) {
	switch global.rootless {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "auto", "":
		if os.Geteuid() != 0 {
			return true, nil
		}
		data, err := os.ReadFile("/proc/self/uid_map")
		return err == nil && !strings.HasPrefix(strings.Join(strings.Fields(string(data)), " "), "0 0 4294967295"), nil
	}
	return false, errdefs.InvalidArgument("--rootless: invalid value %q (true, false or auto)", global.rootless)
}
