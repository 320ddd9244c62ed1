package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

// optionalBool is a bool flag that also records whether it was given, for
// flags that only change the process when set (--no-new-privs).
type optionalBool struct{ value *bool }

func (b *optionalBool) String() string {
	if b.value == nil {
		return "false"
	}
	return strconv.FormatBool(*b.value)
}

func (b *optionalBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return err
	}
	b.value = &v
	return nil
}

func (b *optionalBool) IsBoolFlag() bool { return true }

func execCommand() *cli.Command {
	var (
		opts                         runtime.ExecOptions
		env, gids, caps, cgroups     cli.StringList
		user, processLabel, apparmor string
		tty                          bool
		noNewPrivs                   optionalBool
	)
	return &cli.Command{
		Name:           "exec",
		Args:           "<container-id> <command> [args...] || -p process.json <container-id>",
		Summary:        "execute a new process inside the container",
		StopAtFirstArg: true,
		Help: `Run a new process in a running container, in all its namespaces, its
cgroup and its root, with the container's process settings changed by the
flags, or the process described by --process. In the foreground
tincan-oci waits for it, forwards signals, relays its terminal and exits
with its status (128+signal when a signal ended it); 255 if exec failed.`,
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&opts.ConsoleSocket, "console-socket", "", "path to an AF_UNIX socket which will receive a file descriptor referencing the master end of the console's pseudoterminal")
			fs.StringVar(&opts.Flags.Cwd, "cwd", "", "current working directory in the container")
			fs.Var(&env, "env", "set environment variables (NAME=value, repeatable)")
			fs.Var(&env, "e", "set environment variables (NAME=value, repeatable)")
			cli.BoolVarP(fs, &tty, "tty", "t", false, "allocate a pseudo-TTY")
			cli.StringVarP(fs, &user, "user", "u", "", "UID (format: <uid>[:<gid>])")
			fs.Var(&gids, "additional-gids", "additional gids (repeatable)")
			fs.Var(&gids, "g", "additional gids (repeatable)")
			cli.StringVarP(fs, &opts.ProcessFile, "process", "p", "", "path to the process.json")
			cli.BoolVarP(fs, &opts.Detach, "detach", "d", false, "detach from the container's process")
			fs.StringVar(&opts.PidFile, "pid-file", "", "specify the file to write the process id to")
			fs.StringVar(&processLabel, "process-label", "", "set the asm process label for the process commonly used with selinux")
			fs.StringVar(&apparmor, "apparmor", "", "set the apparmor profile for the process")
			fs.Var(&noNewPrivs, "no-new-privs", "set the no new privileges value for the process")
			fs.Var(&caps, "cap", "add a capability to the bounding set for the process (repeatable)")
			fs.Var(&caps, "c", "add a capability to the bounding set for the process (repeatable)")
			fs.IntVar(&opts.PreserveFDs, "preserve-fds", 0, "pass N additional file descriptors to the container (stdio + $LISTEN_FDS + N in total)")
			fs.Var(&cgroups, "cgroup", "run the process in an (existing) sub-cgroup(s); format is [<controller>:]<cgroup>")
			fs.BoolVar(&opts.IgnorePaused, "ignore-paused", false, "allow exec in a paused container")
		},
		Run: func(args []string) error {
			if len(args) == 0 {
				return usageErr("exec", "requires the container id and a command, or --process")
			}
			opts.Root = global.root
			opts.ID = args[0]
			opts.Flags.Args = args[1:]
			opts.Flags.Terminal = tty
			opts.Flags.Env = env
			opts.Flags.User = user
			opts.Flags.AdditionalGids = gids
			opts.Flags.Caps = caps
			opts.Flags.NoNewPrivs = noNewPrivs.value
			opts.Flags.ProcessLabel = processLabel
			opts.Flags.AppArmor = apparmor
			opts.Cgroups = cgroups
			opts.Stdin, opts.Stdout, opts.Stderr = os.Stdin, os.Stdout, os.Stderr
			opts.Debug = global.debug
			opts.Log = global.log
			status, err := runtime.Exec(opts)
			if err != nil {
				// As runc: one "exec failed" line, and 255, which no
				// process status can be confused with in practice.
				reportError(fmt.Errorf("exec failed: %w", err))
				return exitCode(255)
			}
			if status != 0 {
				return exitCode(status)
			}
			return nil
		},
	}
}
