package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (c *cli) volumeCommand() *cobra.Command {
	vol := &cobra.Command{Use: "volume", Short: "Manage named volumes",
		Example: "  tincan volume create data\n  tincan run -v data:/data --rootfs ./rootfs sh\n  tincan volume ls\n  tincan volume rm data"}
	vol.AddCommand(&cobra.Command{
		Use:     "ls",
		Short:   "List volumes",
		Aliases: []string{"list"},
		Example: "  tincan volume ls",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			names, err := c.store.Volumes()
			for _, n := range names {
				fmt.Println(n)
			}
			return err
		},
	}, &cobra.Command{
		Use:     "rm VOLUME...",
		Short:   "Remove volumes no container uses",
		Example: "  tincan volume rm data",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(args, c.store.RemoveVolume)
		},
	}, &cobra.Command{
		Use:     "create VOLUME",
		Short:   "Create a named volume",
		Example: "  tincan volume create data",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := c.store.VolumePath(args[0])
			if err == nil {
				fmt.Println(args[0])
			}
			return err
		},
	})
	return vol
}
