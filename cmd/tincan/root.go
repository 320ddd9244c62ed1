package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/engine"
)

// cli is what every command shares.
type cli struct {
	store *engine.Store
	debug bool
}

func execute(args []string) int {
	c := &cli{store: storeFromEnv()}
	root := &cobra.Command{
		Use:   "tincan",
		Short: "Run containers, daemonless",
		Long: `tincan runs Linux containers from images (or a root filesystem directory),
like docker and podman but without a daemon: each running container has a
small monitor process that keeps its output and exit status.`,
		Example: `  tincan run busybox echo hello
  tincan run --rootfs ./rootfs echo hello
  tincan run -d --name web --rootfs ./rootfs httpd -f -p 8080
  tincan logs -f web
  tincan exec -it web sh
  tincan stop web && tincan rm web`,
		Version:           version,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.PersistentFlags().BoolVar(&c.debug, "debug", false, "show each isolation step as it happens")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return fmt.Errorf("%s: %v (see '%s --help')", cmd.CommandPath(), err, cmd.CommandPath())
	})
	root.AddCommand(
		c.runCommand(), c.startCommand(), c.psCommand(), c.logsCommand(), c.attachCommand(),
		c.stopCommand(), c.killCommand(), c.rmCommand(), c.restartCommand(), c.waitCommand(),
		c.renameCommand(), c.pruneCommand(), c.inspectCommand(), c.volumeCommand(), c.networkCommand(), c.portCommand(),
		c.infoCommand(), c.checkCommand(),
		c.execCommand(), c.topCommand(), c.statsCommand(), c.pauseCommand(), c.unpauseCommand(),
		c.imagesCommand(), c.imageCommand(), c.pullCommand(), c.pushCommand(), c.tagCommand(), c.rmiCommand(),
		c.historyCommand(), c.saveCommand(), c.loadCommand(), c.loginCommand(), c.logoutCommand(),
	)
	root.SetArgs(args)
	err := root.Execute()
	switch err.(type) {
	case nil, statusError, quietError:
	default:
		printError(err)
	}
	return exitCode(err)
}

// warn prints a warning line.
func warn(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "tincan: warning: "+format+"\n", args...)
}
