package main

import (
	"github.com/spf13/cobra"
)

func (c *cli) pauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "pause CONTAINER...",
		Short: "Freeze every process of running containers",
		Long: `Freeze every process of running containers (the cgroup freezer): they show
as paused in ps and inspect until unpause. stop, kill and rm -f still work.`,
		Example: "  tincan pause web\n  tincan unpause web",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(args, func(ref string) error {
				_, err := c.store.Pause(ref)
				return err
			})
		},
	}
}

func (c *cli) unpauseCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "unpause CONTAINER...",
		Short:   "Thaw paused containers",
		Example: "  tincan unpause web",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(args, func(ref string) error {
				_, err := c.store.Unpause(ref)
				return err
			})
		},
	}
}
