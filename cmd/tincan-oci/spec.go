package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/spec"
)

func specCommand() *cli.Command {
	var bundle string
	var rootless bool
	return &cli.Command{
		Name:    "spec",
		Summary: "create a new specification file (config.json)",
		Help: `Write a default config.json, like runc's, into the bundle directory. Edit
root.path and process.args, then "tincan-oci run". --rootless writes a config
for use by an unprivileged user (a user namespace mapping your uid and gid).`,
		Flags: func(fs *flag.FlagSet) {
			cli.StringVarP(fs, &bundle, "bundle", "b", "", "path to the root of the bundle directory")
			fs.BoolVar(&rootless, "rootless", false, "generate a configuration for a rootless container")
		},
		Run: func(args []string) error {
			if len(args) != 0 {
				return usageErr("spec", "takes no arguments")
			}
			s := spec.Default()
			if rootless {
				spec.Rootless(s, os.Geteuid(), os.Getegid())
			}
			path := filepath.Join(bundle, "config.json")
			if _, err := os.Stat(path); err == nil {
				return errdefs.AlreadyExists("file %s exists: remove it first", path)
			} else if !errors.Is(err, os.ErrNotExist) {
				return err
			}
			data, err := json.MarshalIndent(s, "", "\t")
			if err != nil {
				return err
			}
			if err := os.WriteFile(path, append(data, '\n'), 0o666); err != nil {
				return fmt.Errorf("write %s: %w", path, err)
			}
			return nil
		},
	}
}
