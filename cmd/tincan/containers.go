package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/engine"
	"github.com/tincan/tincan/engine/logs"
	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/signals"
	"github.com/tincan/tincan/network/portmap"
)

func (c *cli) startCommand() *cobra.Command {
	var attach, interactive bool
	cmd := &cobra.Command{
		Use:     "start [flags] CONTAINER",
		Short:   "Start a stopped container",
		Example: "  tincan start web\n  tincan start -a job   # wait for it and show its output",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, err := c.store.Find(args[0])
			if err != nil {
				return err
			}
			if st := c.store.LiveState(rec); st == engine.StateRunning || st == engine.StatePaused {
				return errdefs.Conflict("container %s is already running", rec.Name)
			}
			rec.Config.Interactive = rec.Config.Interactive || interactive
			if attach {
				return c.startAttached(rec)
			}
			if err := c.store.StartMonitor(rec, false, c.debug, nil); err != nil {
				return err
			}
			fmt.Println(rec.Name)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "attach to the output and wait for the exit status")
	cmd.Flags().BoolVarP(&interactive, "interactive", "i", false, "attach stdin")
	return cmd
}

func (c *cli) psCommand() *cobra.Command {
	var all, quiet bool
	var format string
	cmd := &cobra.Command{
		Use:     "ps [flags]",
		Aliases: []string{"ls"},
		Short:   "List containers",
		Example: "  tincan ps\n  tincan ps -a --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "table" && format != "json" {
				return errdefs.InvalidArgument("--format %q: table or json", format)
			}
			recs, err := c.store.List()
			if err != nil {
				return err
			}
			var shown []psRow
			for _, r := range recs {
				st := c.store.LiveState(r)
				if !all && st != engine.StateRunning && st != engine.StatePaused {
					continue
				}
				shown = append(shown, newPSRow(r, st))
			}
			switch {
			case quiet:
				for _, r := range shown {
					fmt.Println(r.ID[:12])
				}
			case format == "json":
				if shown == nil {
					shown = []psRow{}
				}
				return json.NewEncoder(os.Stdout).Encode(shown)
			default:
				w := tabwriter.NewWriter(os.Stdout, 3, 1, 3, ' ', 0)
				fmt.Fprintln(w, "CONTAINER ID\tIMAGE\tCOMMAND\tCREATED\tSTATUS\tPORTS\tNAMES")
				for _, r := range shown {
					fmt.Fprintf(w, "%s\t%s\t%q\t%s\t%s\t%s\t%s\n", r.ID[:12], r.Image, truncate(r.Command, 30),
						ago(r.Created), r.Status, strings.Join(r.Ports, ", "), r.Name)
				}
				return w.Flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "show all containers (default: running only)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show ids")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

// psRow is one container in ps output.
type psRow struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Image is the image as typed at run, or the --rootfs directory.
	Image    string            `json:"image"`
	Rootfs   string            `json:"rootfs,omitempty"`
	Command  string            `json:"command"`
	Created  time.Time         `json:"created"`
	State    engine.State      `json:"state"`
	Status   string            `json:"status"`
	ExitCode int               `json:"exitCode"`
	Pid      int               `json:"pid,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	// Ports are the published ports of a running container, as docker
	// ps shows them ("0.0.0.0:8080->80/tcp").
	Ports []string `json:"ports,omitempty"`
}

func newPSRow(r *engine.Record, st engine.State) psRow {
	row := psRow{ID: r.ID, Name: r.Name, Image: r.Config.Image, Rootfs: r.Config.Rootfs,
		Command: strings.Join(append(append([]string{}, r.Config.Entrypoint...), r.Config.Cmd...), " "),
		Created: r.Created, State: st, ExitCode: r.ExitCode, Labels: r.Config.Labels}
	if row.Image == "" {
		row.Image = r.Config.Rootfs
	}
	switch st {
	case engine.StateRunning:
		row.Status, row.Pid = "Up "+since(r.StartedAt), r.Pid
		row.Ports = psPorts(r)
	case engine.StatePaused:
		row.Status, row.Pid = "Up "+since(r.StartedAt)+" (Paused)", r.Pid
	case engine.StateCreated:
		row.Status = "Created"
	default:
		row.Status = fmt.Sprintf("Exited (%d) %s", r.ExitCode, ago(r.FinishedAt))
	}
	return row
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}

// since is a docker-style duration ("3 minutes").
func since(t time.Time) string {
	d := time.Since(t)
	switch {
	case t.IsZero():
		return "less than a second"
	case d < time.Second:
		return "less than a second"
	case d < time.Minute:
		return fmt.Sprintf("%d seconds", int(d.Seconds()))
	case d < time.Hour:
		return plural(int(d.Minutes()), "minute")
	case d < 48*time.Hour:
		return plural(int(d.Hours()), "hour")
	}
	return plural(int(d.Hours()/24), "day")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func ago(t time.Time) string { return since(t) + " ago" }

func (c *cli) logsCommand() *cobra.Command {
	var follow, timestamps bool
	var tail string
	cmd := &cobra.Command{
		Use:     "logs [flags] CONTAINER",
		Short:   "Show a container's output",
		Example: "  tincan logs web\n  tincan logs -f --tail 10 --timestamps web",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, err := c.store.Find(args[0])
			if err != nil {
				return err
			}
			n := -1
			if tail != "all" {
				if _, err := fmt.Sscanf(tail, "%d", &n); err != nil || n < 0 {
					return errdefs.InvalidArgument("--tail %q: a number or all", tail)
				}
			}
			opts := logs.ReadOptions{Tail: n, Follow: follow}
			if follow {
				stop := make(chan struct{})
				opts.Stop = stop
				go func() {
					c.store.Wait(rec.ID)
					// Let the reader pick up what the process wrote last.
					time.Sleep(300 * time.Millisecond)
					close(stop)
				}()
			}
			return logs.Read(c.store.LogPath(rec.ID), opts, func(e logs.Entry) error {
				out := os.Stdout
				if e.Stream == "stderr" {
					out = os.Stderr
				}
				if timestamps {
					fmt.Fprintf(out, "%s %s", e.Time.Format(time.RFC3339Nano), e.Log)
				} else {
					out.WriteString(e.Log)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new output until the container exits")
	cmd.Flags().BoolVarP(&timestamps, "timestamps", "t", false, "prefix each line with its time")
	cmd.Flags().StringVarP(&tail, "tail", "n", "all", "number of lines from the end to show")
	return cmd
}

func (c *cli) attachCommand() *cobra.Command {
	var noStdin bool
	cmd := &cobra.Command{
		Use:     "attach [flags] CONTAINER",
		Short:   "Attach to a running container's input and output",
		Example: "  tincan attach web             # its output from now on; exits with its status\n  tincan attach --no-stdin web",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, err := c.store.Find(args[0])
			if err != nil {
				return err
			}
			if st := c.store.LiveState(rec); st != engine.StateRunning && st != engine.StatePaused {
				return errdefs.Conflict("you cannot attach to a stopped container, start it first")
			}
			att, err := c.store.Attach(rec)
			if err != nil {
				return err
			}
			var stdin *os.File
			if rec.Config.Interactive && !noStdin {
				stdin = os.Stdin
			}
			code, err := att.Stream(engine.StreamOptions{Stdin: stdin, Stdout: os.Stdout, Stderr: os.Stderr,
				Tty: rec.Config.Tty, ProxySignals: !rec.Config.Tty})
			if err != nil {
				return err
			}
			if code != 0 {
				return statusError(code)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&noStdin, "no-stdin", false, "do not attach stdin")
	return cmd
}

func (c *cli) stopCommand() *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:     "stop [flags] CONTAINER...",
		Short:   "Stop running containers (stop signal, then SIGKILL after a timeout)",
		Example: "  tincan stop web\n  tincan stop -t 0 web   # kill at once",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t *int
			if cmd.Flags().Changed("time") {
				t = &timeout
			}
			return forEach(args, func(ref string) error {
				_, err := c.store.Stop(ref, t)
				return err
			})
		},
	}
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait before killing")
	return cmd
}

// forEach applies fn to every reference, printing each one done, and
// returns an error if any failed (after trying them all, as docker does).
func forEach(refs []string, fn func(string) error) error {
	failed := 0
	for _, ref := range refs {
		if err := fn(ref); err != nil {
			printError(err)
			failed++
			continue
		}
		fmt.Println(ref)
	}
	if failed > 0 {
		return quietError{fmt.Errorf("%d of %d failed", failed, len(refs))}
	}
	return nil
}

// quietError was already printed.
type quietError struct{ error }

func (c *cli) killCommand() *cobra.Command {
	var sig string
	cmd := &cobra.Command{
		Use:     "kill [flags] CONTAINER...",
		Short:   "Send a signal to running containers (default SIGKILL)",
		Example: "  tincan kill web\n  tincan kill -s HUP web",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := signals.Parse(sig)
			if err != nil {
				return err
			}
			return forEach(args, func(ref string) error {
				_, err := c.store.Kill(ref, s)
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&sig, "signal", "s", "KILL", "signal to send")
	return cmd
}

func (c *cli) rmCommand() *cobra.Command {
	var force, volumes bool
	cmd := &cobra.Command{
		Use:     "rm [flags] CONTAINER...",
		Short:   "Remove containers",
		Example: "  tincan rm web\n  tincan rm -f -v web   # kill it first, remove its anonymous volumes",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(args, func(ref string) error {
				_, err := c.store.Remove(ref, force, volumes)
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "kill a running container before removing it")
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "remove the container's anonymous volumes")
	return cmd
}

func (c *cli) restartCommand() *cobra.Command {
	var timeout int
	cmd := &cobra.Command{
		Use:     "restart [flags] CONTAINER...",
		Short:   "Stop and start containers",
		Example: "  tincan restart web\n  tincan restart -t 0 web   # kill it at once, then start it",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var t *int
			if cmd.Flags().Changed("time") {
				t = &timeout
			}
			return forEach(args, func(ref string) error {
				_, err := c.store.Restart(ref, t, c.debug)
				return err
			})
		},
	}
	cmd.Flags().IntVarP(&timeout, "time", "t", 10, "seconds to wait before killing")
	return cmd
}

func (c *cli) waitCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "wait CONTAINER...",
		Short:   "Wait for containers to exit and print their exit status",
		Example: "  tincan wait job",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, ref := range args {
				code, err := c.store.Wait(ref)
				if err != nil {
					return err
				}
				fmt.Println(code)
			}
			return nil
		},
	}
}

func (c *cli) renameCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "rename CONTAINER NEW_NAME",
		Short:   "Rename a container",
		Example: "  tincan rename web web-old",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.store.Rename(args[0], args[1])
		},
	}
}

func (c *cli) pruneCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "prune",
		Short:   "Remove every stopped container",
		Example: "  tincan prune   # prints the ids it removed",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ids, err := c.store.Prune()
			for _, id := range ids {
				fmt.Println(id)
			}
			return err
		},
	}
}

// psPorts are a running container's published ports, docker ps's way.
func psPorts(r *engine.Record) []string {
	if r.Network == nil {
		return nil
	}
	var out []string
	for _, l := range portmap.Lines(r.Network.Ports) {
		ctr, host, _ := strings.Cut(l, " -> ")
		out = append(out, host+"->"+ctr)
	}
	return out
}
