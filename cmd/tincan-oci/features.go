package main

import (
	"encoding/json"
	"os"

	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func featuresCommand() *cli.Command {
	return &cli.Command{
		Name:    "features",
		Summary: "show the enabled features (runtime-spec features document, JSON)",
		Run: func(args []string) error {
			if len(args) != 0 {
				return usageErr("features", "takes no arguments")
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			return enc.Encode(runtime.Features())
		},
	}
}
