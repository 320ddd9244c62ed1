package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/image"
)

func (c *cli) saveCommand() *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "save [flags] IMAGE...",
		Short: "Write images to a tar archive",
		Long: `Write images to a tar archive: docker-archive (what docker save writes and
docker load reads) or oci-archive (an OCI image layout). Without -o the
archive goes to stdout, which must not be a terminal.`,
		Example: "  tincan save -o alpine.tar alpine\n  tincan save --format oci-archive alpine > alpine-oci.tar",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.images()
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				if isTerminal(os.Stdout) {
					return errdefs.InvalidArgument("refusing to write an archive to a terminal: use -o FILE or redirect stdout")
				}
				w := bufio.NewWriterSize(os.Stdout, 1<<20)
				if err := s.Save(cmd.Context(), w, args, image.ArchiveFormat(format)); err != nil {
					return err
				}
				return w.Flush()
			}
			return writeAtomically(output, func(w io.Writer) error {
				return s.Save(cmd.Context(), w, args, image.ArchiveFormat(format))
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to FILE instead of stdout")
	cmd.Flags().StringVar(&format, "format", string(image.DockerArchive), "docker-archive or oci-archive")
	return cmd
}

// writeAtomically writes path through a temporary file in its directory,
// renamed only when write succeeded: a failed save leaves nothing.
func writeAtomically(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	err = write(w)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func (c *cli) loadCommand() *cobra.Command {
	var input, platform string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load [flags]",
		Short: "Read images from a tar archive",
		Long: `Read images from a docker-archive or OCI layout tar (plain, gzip or zstd),
from -i FILE or stdin, and unpack them.`,
		Example: "  tincan load -i alpine.tar\n  tincan load < alpine-oci.tar",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.images()
			if err != nil {
				return err
			}
			var r io.Reader = os.Stdin
			if input != "" && input != "-" {
				f, err := os.Open(input)
				if err != nil {
					return errdefs.InvalidArgument("load: %v", err)
				}
				defer f.Close()
				r = f
			}
			loaded, err := s.Load(cmd.Context(), bufio.NewReaderSize(r, 1<<20), image.LoadOptions{Platform: platform})
			if err != nil {
				return err
			}
			for _, l := range loaded {
				if len(l.Names) == 0 {
					fmt.Printf("Loaded image ID: %s\n", l.Image.ID)
					continue
				}
				for _, n := range l.Names {
					if r, _, err := image.ParseReference(n, image.DockerHub); err == nil {
						n = r.FamiliarString()
					}
					if !quiet {
						fmt.Printf("Loaded image: %s\n", n)
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "read from FILE instead of stdin")
	cmd.Flags().StringVar(&platform, "platform", "", "os/arch[/variant] to use from a multi-platform archive (default: this host's)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print nothing for named images")
	return cmd
}
