package main

import (
	"github.com/spf13/cobra"
)

func (c *cli) tagCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "tag SOURCE TARGET",
		Short:   "Give an image another name",
		Example: "  tincan tag alpine localhost:5000/alpine:3.20",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.images()
			if err != nil {
				return err
			}
			return s.Tag(args[0], args[1])
		},
	}
}
