package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/image"
)

func (c *cli) rmiCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rmi [flags] IMAGE...",
		Short: "Remove images",
		Long: `Remove names, and images with their last name; an id removes the image with
all its names. Layers and blobs no image uses any more are freed.`,
		Example: "  tincan rmi alpine\n  tincan rmi -f 3f57d9401f8d",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.images()
			if err != nil {
				return err
			}
			failed := 0
			for _, ref := range args {
				res, err := s.Remove(ref, force, c.imageInUse())
				if err != nil {
					printError(err)
					failed++
					continue
				}
				for _, n := range res.Untagged {
					if r, _, err := image.ParseReference(n, image.DockerHub); err == nil {
						n = r.FamiliarString()
					}
					fmt.Printf("Untagged: %s\n", n)
				}
				if res.Deleted != "" {
					fmt.Printf("Deleted: %s\n", res.Deleted)
				}
			}
			// Free what nothing references now, unless a pull is running
			// (the next rmi or prune will).
			if _, err := s.GC(image.GCOptions{NoWait: true}); err != nil && !errors.Is(err, image.ErrBusy) {
				return err
			}
			if failed > 0 {
				return quietError{fmt.Errorf("%d of %d failed", failed, len(args))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove names of images in use, and ids with several names")
	return cmd
}
