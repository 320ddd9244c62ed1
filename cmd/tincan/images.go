package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/image"
)

// images opens the image store beside the container store.
// TINCAN_STORAGE_DRIVER chooses the snapshotter (overlay, native); by
// default overlay where the kernel has it.
func (c *cli) images() (*image.Store, error) {
	s, err := image.Open(image.Options{Data: c.store.Data, Driver: os.Getenv("TINCAN_STORAGE_DRIVER")})
	if err != nil {
		return nil, err
	}
	s.Warn = func(msg string) { warn("%s", msg) }
	return s, nil
}

// imageInUse tells the image store which images containers (running or
// not) use, so that rmi and prune keep them.
func (c *cli) imageInUse() image.InUse { return c.store.UsesImage }

// progressMode is the reporting of pull, push and load: bars on a
// terminal, lines otherwise, nothing with --quiet.
func progressMode(quiet bool) image.ProgressMode {
	if quiet {
		return image.ProgressQuiet
	}
	return image.ProgressAuto
}

// imageCommand is "tincan image ...", docker's management command.
func (c *cli) imageCommand() *cobra.Command {
	img := &cobra.Command{Use: "image", Short: "Manage images"}
	ls := c.imagesCommand()
	ls.Use, ls.Aliases = "ls [flags]", []string{"list"}
	rm := c.rmiCommand()
	rm.Use, rm.Aliases = "rm [flags] IMAGE...", []string{"remove"}
	img.AddCommand(ls, rm, c.pullCommand(), c.pushCommand(), c.tagCommand(), c.imageInspectCommand(),
		c.historyCommand(), c.saveCommand(), c.loadCommand(), c.imagePruneCommand())
	return img
}

// imageRow is one line of `images`, with docker's --format json keys.
type imageRow struct {
	Containers   string `json:"Containers"`
	CreatedAt    string `json:"CreatedAt"`
	CreatedSince string `json:"CreatedSince"`
	Digest       string `json:"Digest"`
	ID           string `json:"ID"`
	Repository   string `json:"Repository"`
	Size         string `json:"Size"`
	Tag          string `json:"Tag"`
	VirtualSize  string `json:"VirtualSize"`
}

func (c *cli) imagesCommand() *cobra.Command {
	var quiet, digests, noTrunc bool
	var format string
	cmd := &cobra.Command{
		Use:     "images [flags]",
		Short:   "List images",
		Example: "  tincan images\n  tincan images --format json\n  tincan images -q",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return errdefs.InvalidArgument("--format %q: table or json", format)
			}
			s, err := c.images()
			if err != nil {
				return err
			}
			list, err := s.List()
			if err != nil {
				return err
			}
			if quiet {
				seen := map[string]bool{}
				for _, img := range list {
					id := img.ShortID()
					if noTrunc {
						id = img.ID.String()
					}
					if !seen[id] {
						seen[id] = true
						fmt.Println(id)
					}
				}
				return nil
			}
			rows := imageRows(list, noTrunc)
			if format == "json" {
				enc := json.NewEncoder(os.Stdout)
				for _, r := range rows {
					if err := enc.Encode(r); err != nil {
						return err
					}
				}
				return nil
			}
			w := tabwriter.NewWriter(os.Stdout, 3, 1, 3, ' ', 0)
			if digests {
				fmt.Fprintln(w, "REPOSITORY\tTAG\tDIGEST\tIMAGE ID\tCREATED\tSIZE")
			} else {
				fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
			}
			for _, r := range rows {
				if digests {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Repository, r.Tag, r.Digest, r.ID, r.CreatedSince, r.Size)
				} else {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", r.Repository, r.Tag, r.ID, r.CreatedSince, r.Size)
				}
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show image ids")
	cmd.Flags().BoolVar(&digests, "digests", false, "show digests")
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "show full ids")
	cmd.Flags().StringVar(&format, "format", "table", "table or json (one object per line)")
	return cmd
}

// imageRows is one row per name (one "<none>" row for an image without).
func imageRows(list []image.Summary, noTrunc bool) []imageRow {
	var rows []imageRow
	for _, img := range list {
		id := img.ShortID()
		if noTrunc {
			id = img.ID.String()
		}
		base := imageRow{Containers: "N/A", ID: id, Size: humanSize(img.Size()), Digest: "<none>",
			CreatedSince: "N/A", Repository: "<none>", Tag: "<none>"}
		base.VirtualSize = base.Size
		if !img.Created.IsZero() {
			base.CreatedAt = img.Created.Format("2006-01-02 15:04:05 -0700 MST")
			base.CreatedSince = ago(img.Created)
		}
		if len(img.Names) == 0 {
			rows = append(rows, base)
			continue
		}
		for _, n := range img.Names {
			ref, _, err := image.ParseReference(n, image.DockerHub)
			if err != nil {
				continue
			}
			r := base
			r.Repository, r.Tag = ref.FamiliarName(), ref.Tag
			for _, rd := range img.RepoDigests {
				if name, d, ok := strings.Cut(rd, "@"); ok && name == ref.Name() {
					r.Digest = d
				}
			}
			rows = append(rows, r)
		}
	}
	return rows
}

// humanSize prints sizes as docker does: decimal units, 3 significant
// digits ("7.8MB").
func humanSize(n int64) string {
	units := []string{"B", "kB", "MB", "GB", "TB"}
	f := float64(n)
	i := 0
	for f >= 1000 && i < len(units)-1 {
		f /= 1000
		i++
	}
	return fmt.Sprintf("%.3g%s", f, units[i])
}

func (c *cli) imageInspectCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "inspect IMAGE...",
		Short:   "Show everything about images, as JSON",
		Example: "  tincan image inspect alpine",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			views, err := c.inspectImages(args)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			return enc.Encode(views)
		},
	}
}

// inspectImages returns the inspect documents of refs (for `image
// inspect`, and for `inspect` when a reference names no container).
func (c *cli) inspectImages(refs []string) ([]*image.InspectView, error) {
	s, err := c.images()
	if err != nil {
		return nil, err
	}
	views := make([]*image.InspectView, 0, len(refs))
	for _, r := range refs {
		v, err := s.Inspect(r)
		if err != nil {
			return nil, err
		}
		views = append(views, v)
	}
	return views, nil
}

func (c *cli) historyCommand() *cobra.Command {
	var noTrunc, quiet bool
	var format string
	cmd := &cobra.Command{
		Use:     "history [flags] IMAGE",
		Short:   "Show how an image was built, newest step first",
		Example: "  tincan history alpine",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return errdefs.InvalidArgument("--format %q: table or json", format)
			}
			s, err := c.images()
			if err != nil {
				return err
			}
			steps, err := s.History(args[0])
			if err != nil {
				return err
			}
			if format == "json" {
				return json.NewEncoder(os.Stdout).Encode(steps)
			}
			w := tabwriter.NewWriter(os.Stdout, 3, 1, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(w, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
			}
			for _, h := range steps {
				id := "<missing>"
				if h.ID != "" {
					id = h.ID
					if !noTrunc {
						id = strings.TrimPrefix(id, "sha256:")[:12]
					}
				}
				if quiet {
					fmt.Fprintln(w, id)
					continue
				}
				by := strings.Join(strings.Fields(h.CreatedBy), " ")
				if !noTrunc {
					by = truncate(by, 45)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", id, createdAgo(h.Created), by, humanSize(h.Size), h.Comment)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "do not truncate output")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show image ids")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func createdAgo(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return ago(t)
}

func (c *cli) imagePruneCommand() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "prune [flags]",
		Short: "Remove unused images, then unreferenced layers and blobs",
		Long: `Remove images without a name (with --all: every image no container uses),
then every blob and layer snapshot no image references, and partial downloads.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := c.images()
			if err != nil {
				return err
			}
			res, err := s.Prune(all, c.imageInUse())
			sort.Slice(res.Images, func(i, j int) bool { return res.Images[i] < res.Images[j] })
			for _, id := range res.Images {
				fmt.Printf("Deleted: %s\n", id)
			}
			if err != nil {
				return err
			}
			fmt.Printf("Total reclaimed space: %s\n", humanSize(res.Reclaimed))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "remove every image no container uses, not only unnamed ones")
	cmd.Flags().BoolP("force", "f", false, "do not prompt (tincan never prompts)")
	return cmd
}
