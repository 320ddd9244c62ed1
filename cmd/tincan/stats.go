package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/engine"
	"github.com/tincan/tincan/errdefs"
)

// statsInterval is how often stats refreshes, and the span a --no-stream
// sample's CPU % is measured over.
const statsInterval = time.Second

func (c *cli) statsCommand() *cobra.Command {
	var noStream bool
	var format string
	cmd := &cobra.Command{
		Use:   "stats [flags] [CONTAINER...]",
		Short: "Show containers' CPU, memory, block I/O and process counts",
		Long: `Show the resource use of running containers (default: all of them), refreshed
every second until interrupted: CPU % (100% is one CPU kept busy), memory
in use against the limit (the host's memory when there is none), block I/O
and the number of processes. --no-stream prints one sample, taken over a
second.`,
		Example: "  tincan stats\n  tincan stats --no-stream web\n  tincan stats --no-stream --format json",
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return errdefs.InvalidArgument("--format %q: table or json", format)
			}
			sc, err := c.store.NewStatsCollector(args)
			if err != nil {
				return err
			}
			if _, err := sc.Collect(); err != nil {
				return err
			}
			for {
				time.Sleep(statsInterval)
				rows, err := sc.Collect()
				if err != nil {
					return err
				}
				if format == "json" {
					enc := json.NewEncoder(os.Stdout)
					for _, r := range rows {
						if err := enc.Encode(r); err != nil {
							return err
						}
					}
				} else {
					if !noStream {
						// Clear the screen and go home, as docker does.
						os.Stdout.WriteString("\033[2J\033[H")
					}
					printStats(os.Stdout, rows)
				}
				if noStream {
					return nil
				}
			}
		},
	}
	cmd.Flags().BoolVar(&noStream, "no-stream", false, "print one sample and exit")
	cmd.Flags().StringVar(&format, "format", "table", "table or json (one object per container and sample)")
	return cmd
}

func printStats(out io.Writer, rows []engine.ContainerStats) {
	w := tabwriter.NewWriter(out, 3, 1, 3, ' ', 0)
	fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tBLOCK I/O\tPIDS")
	for _, r := range rows {
		if !r.Running {
			fmt.Fprintf(w, "%s\t%s\t--\t-- / --\t--\t--\t--\n", r.ID[:12], r.Name)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%s / %s\t%d\n", r.ID[:12], r.Name, r.CPUPercent,
			binarySize(r.Memory), binarySize(r.MemoryLimit), r.MemPercent,
			decimalSize(r.BlockRead), decimalSize(r.BlockWrite), r.Pids)
	}
	w.Flush()
}

// binarySize is a byte count in binary units (1.5MiB), as docker shows
// memory.
func binarySize(n uint64) string {
	return scaledSize(float64(n), 1024, []string{"B", "KiB", "MiB", "GiB", "TiB"})
}

// decimalSize is a byte count in decimal units (1.5MB), as docker shows
// I/O.
func decimalSize(n uint64) string {
	return scaledSize(float64(n), 1000, []string{"B", "kB", "MB", "GB", "TB"})
}

func scaledSize(v, base float64, units []string) string {
	i := 0
	for v >= base && i < len(units)-1 {
		v /= base
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f%s", v, units[0])
	}
	return fmt.Sprintf("%.4g%s", v, units[i])
}
