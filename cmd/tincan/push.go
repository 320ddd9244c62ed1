package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/image"
)

func (c *cli) pushCommand() *cobra.Command {
	var quiet, tlsVerify bool
	cmd := &cobra.Command{
		Use:   "push [flags] IMAGE [DESTINATION]",
		Short: "Upload an image to a registry",
		Long: `Upload an image (its whole multi-platform index when every part of it is
stored) to the registry its name (or DESTINATION) names. Prints the pushed
digest.`,
		Example: "  tincan push localhost:5000/app:1.0\n  tincan push alpine localhost:5000/alpine:3",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.images()
			if err != nil {
				return err
			}
			dest := ""
			if len(args) == 2 {
				dest = args[1]
			}
			progress := image.NewProgress(os.Stderr, progressMode(quiet))
			ref, d, err := s.Push(cmd.Context(), args[0], dest, image.PushOptions{
				Progress: progress, RegistryOptions: image.RegistryOptions{SkipTLSVerify: !tlsVerify},
			})
			progress.Wait()
			if err != nil {
				return err
			}
			fmt.Printf("%s@%s\n", ref.Name(), d)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	cmd.Flags().BoolVar(&tlsVerify, "tls-verify", true, "require https with a verified certificate (false: allow http and any certificate)")
	return cmd
}
