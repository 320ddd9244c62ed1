package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/image"
)

func (c *cli) pullCommand() *cobra.Command {
	var platform string
	var quiet, tlsVerify bool
	cmd := &cobra.Command{
		Use:   "pull [flags] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Long: `Download an image, verify every blob and unpack its layers. Names without a
registry use the default registry (docker.io unless registries.json says
otherwise); registries on localhost and 127.0.0.0/8 may speak plain http.
Progress goes to stderr; the image's full name is printed on stdout.`,
		Example: "  tincan pull alpine\n  tincan pull --platform linux/arm64 alpine:3.20\n  tincan pull localhost:5000/app@sha256:...",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.images()
			if err != nil {
				return err
			}
			progress := image.NewProgress(os.Stderr, progressMode(quiet))
			_, ref, err := s.Pull(cmd.Context(), args[0], image.PullOptions{
				Platform: platform, Progress: progress,
				RegistryOptions: image.RegistryOptions{SkipTLSVerify: !tlsVerify},
			})
			progress.Wait()
			if err != nil {
				return err
			}
			fmt.Println(ref.String())
			return nil
		},
	}
	cmd.Flags().StringVar(&platform, "platform", "", "os/arch[/variant] to pull from a multi-platform image (default: this host's)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress output")
	cmd.Flags().BoolVar(&tlsVerify, "tls-verify", true, "require https with a verified certificate (false: allow http and any certificate)")
	return cmd
}
