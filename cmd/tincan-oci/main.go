// A tincan-oci process lives a few milliseconds: the Go runtime need not
// start a goroutine (and the thread to run it) that re-checks GOMAXPROCS
// every second, or name each anonymous mapping with a prctl.
//
//go:debug updatemaxprocs=0
//go:debug decoratemappings=0

// Command tincan-oci is an OCI runtime, a drop-in replacement for runc:
// the same verbs, flags, state and exit behaviour, so that containerd,
// podman, CRI-O and docker can use it unchanged.
//
// This package only parses the command line and prints results; the work
// is done by package runtime.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/debug"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/internal/logging"
	_ "github.com/tincan/tincan/linux/nsenter" // the namespace constructor for "init"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

const prog = "tincan-oci"

// globals are the flags given before the verb.
type globals struct {
	root          string
	logPath       string
	logFormat     string
	debug         bool
	systemdCgroup bool
	rootless      string
	log           *logging.Logger
}

var global globals

func init() {
	// The init verb applies per-thread state (capabilities, no_new_privs)
	// and executes the container process from the main thread, so the
	// main goroutine must stay on it from the start.
	if len(os.Args) > 1 && os.Args[1] == "init" {
		goruntime.LockOSThread()
	}
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "init" {
		initMain()
	}
	stopTrace := startTrace()
	code := run(os.Args[1:])
	stopTrace()
	os.Exit(code)
}

// exitCode is an error that carries a process exit status (run returns
// the container's).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func defaultRoot() string {
	if os.Geteuid() == 0 {
		return "/run/tincan"
	}
	if dir := os.Getenv("XDG_RUNTIME_DIR"); dir != "" {
		return dir + "/tincan"
	}
	return fmt.Sprintf("/tmp/tincan-%d", os.Geteuid())
}

func globalFlags(fs *flag.FlagSet, showVersion, help *bool) {
	fs.StringVar(&global.root, "root", defaultRoot(), "root directory for storage of container state (this should be located in tmpfs)")
	fs.StringVar(&global.logPath, "log", "", "set the log file to write tincan-oci logs to (default is stderr)")
	fs.StringVar(&global.logFormat, "log-format", "text", "set the log format ('text' or 'json')")
	fs.BoolVar(&global.debug, "debug", false, "enable debug logging")
	fs.BoolVar(&global.systemdCgroup, "systemd-cgroup", false, "enable systemd cgroup support (needs systemd)")
	fs.StringVar(&global.rootless, "rootless", "auto", "ignore cgroup permission errors ('true', 'false', or 'auto')")
	var criu string
	fs.StringVar(&criu, "criu", "criu", "path to the criu binary (checkpoint/restore is not supported)")
	cli.BoolVarP(fs, showVersion, "version", "v", false, "print the version")
	cli.BoolVarP(fs, help, "help", "h", false, "show help")
}

func run(args []string) (code int) {
	defer func() {
		// A bug must still end in one line, not a stack trace for the
		// engine to show; the stack goes to the debug log.
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "%s: internal error: %v\n", prog, r)
			if global.log != nil {
				global.log.Errorf("internal error: %v", r)
				global.log.Debugf("%s", debug.Stack())
			}
			code = 1
		}
	}()
	var showVersion, help bool
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	globalFlags(fs, &showVersion, &help)
	rest, err := cli.ParseInterspersed(fs, args, true)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v (see '%s --help')\n", prog, err, prog)
		return 1
	}
	switch {
	case showVersion:
		fmt.Printf("%s version %s\nspec: %s\ngo: %s\n", prog, version, specs.Version, goruntime.Version())
		return 0
	case help || len(rest) == 0:
		printUsage(fs, os.Stdout)
		return 0
	case rest[0] == "help":
		if len(rest) > 1 {
			if c := commands()[rest[1]]; c != nil {
				c.Parse(prog, []string{"--help"}, os.Stdout)
				return 0
			}
		}
		printUsage(fs, os.Stdout)
		return 0
	}
	cmd := commands()[rest[0]]
	if cmd == nil {
		fmt.Fprintf(os.Stderr, "%s: unknown command %q (see '%s --help')\n", prog, rest[0], prog)
		return 1
	}
	pos, err := cmd.Parse(prog, rest[1:], os.Stdout)
	if errors.Is(err, cli.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
		return 1
	}
	global.log, err = logging.New(global.logPath, logging.Format(global.logFormat), global.debug, prog)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", prog, err)
		return 1
	}
	defer global.log.Close()
	err = cmd.Run(pos)
	var status exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		return int(status)
	}
	reportError(err)
	return 1
}

// reportError logs err at level error (engines read the last error line
// of --log) and, when the log is a file, also prints it on stderr.
func reportError(err error) {
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", "; ")
	global.log.Errorf("%s", msg)
	if global.log.ToFile() {
		fmt.Fprintf(os.Stderr, "%s: %s\n", prog, msg)
	}
}

func printUsage(fs *flag.FlagSet, out io.Writer) {
	fmt.Fprintf(out, "Usage: %s [global flags] <command> [flags] [arguments]\n\n", prog)
	fmt.Fprintf(out, "%s runs containers from OCI bundles; it is a drop-in replacement for runc.\n\nCommands:\n", prog)
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for name, c := range cmds {
		if !c.Hidden {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Fprintf(out, "  %-10s %s\n", name, cmds[name].Summary)
	}
	cli.PrintFlags(fs, out)
	fmt.Fprintf(out, "\nRun '%s <command> --help' for a command's flags.\n", prog)
}

// usageErr is a wrong number of arguments.
func usageErr(cmd, want string) error {
	return &cli.UsageError{Msg: fmt.Sprintf("%s: %s (see '%s %s --help')", cmd, want, prog, cmd)}
}

// oneID checks that args is exactly one container id.
func oneID(cmd string, args []string) (string, error) {
	if len(args) != 1 {
		return "", usageErr(cmd, fmt.Sprintf("requires exactly 1 argument, the container id, got %d", len(args)))
	}
	return args[0], nil
}

// commands is the verb table; built on demand so that "init" does not pay
// for it.
func commands() map[string]*cli.Command {
	list := []*cli.Command{
		createCommand(), startCommand(), runCommand(), stateCommand(), killCommand(),
		deleteCommand(), listCommand(), specCommand(), featuresCommand(), initCommand(),
		execCommand(),
		updateCommand(), pauseCommand(), resumeCommand(), eventsCommand(), psCommand(),
	}
	m := make(map[string]*cli.Command, len(list))
	for _, c := range list {
		m[c.Name] = c
	}
	return m
}
