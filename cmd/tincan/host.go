package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/engine"
)

func (c *cli) infoCommand() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:     "info",
		Short:   "Show what this host supports and where tincan keeps its state",
		Example: "  tincan info\n  tincan info --format json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			checks := engine.HostChecks()
			if format == "json" {
				return json.NewEncoder(os.Stdout).Encode(map[string]any{
					"version": version, "dataRoot": c.store.Data, "runRoot": c.store.Run, "checks": checks})
			}
			fmt.Printf("tincan %s\ndata root: %s\nrun root:  %s\n\n", version, c.store.Data, c.store.Run)
			printChecks(checks)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func (c *cli) checkCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "check",
		Short:   "Check the host's prerequisites; exit 1 if a required one is missing",
		Example: "  tincan check && echo ready",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			checks := engine.HostChecks()
			printChecks(checks)
			for _, ch := range checks {
				if ch.Required && !ch.OK {
					return quietError{fmt.Errorf("%s is required", ch.Name)}
				}
			}
			return nil
		},
	}
}

func printChecks(checks []engine.Check) {
	w := tabwriter.NewWriter(os.Stdout, 2, 1, 2, ' ', 0)
	for _, ch := range checks {
		mark := "yes"
		if !ch.OK {
			mark = "no"
		}
		req := ""
		if ch.Required {
			req = " (required)"
		}
		fmt.Fprintf(w, "%s%s:\t%s\t%s\n", ch.Name, req, mark, ch.Detail)
	}
	w.Flush()
}
