package main

import (
	"os"

	"github.com/spf13/cobra"
)

func (c *cli) topCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Show the processes of a running container",
		Long: `Show the processes of a running container as ps(1) lists them: ps -ef by
default, or with the ps options given after the container.`,
		Example: "  tincan top web\n  tincan top web -o pid,user,args",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			table, err := c.store.Top(args[0], args[1:])
			if err != nil {
				return err
			}
			_, err = os.Stdout.Write(table)
			return err
		},
	}
	cmd.Flags().SetInterspersed(false) // options after the container are ps's
	return cmd
}
