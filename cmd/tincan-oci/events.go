package main

import (
	"encoding/json"
	"flag"
	"os"
	"time"

	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func eventsCommand() *cli.Command {
	var stats bool
	var interval time.Duration
	return &cli.Command{
		Name:    "events",
		Args:    "<container-id>",
		Summary: "display container events: OOM notifications and resource usage",
		Help: `Prints one JSON object per line, as runc does: {"type":"stats","id":...,"data":{...}}
every interval and {"type":"oom","id":...} when the container runs out of memory,
until the container stops. With --stats, one stats object and exit.`,
		Flags: func(fs *flag.FlagSet) {
			fs.DurationVar(&interval, "interval", 5*time.Second, "set the stats collection interval")
			fs.BoolVar(&stats, "stats", false, "display the container's stats then exit")
		},
		Run: func(args []string) error {
			id, err := oneID("events", args)
			if err != nil {
				return err
			}
			c, err := runtime.Load(global.root, id)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(os.Stdout)
			if stats {
				ev, err := c.Stats()
				if err != nil {
					return err
				}
				return enc.Encode(ev)
			}
			return c.Events(interval, func(ev runtime.Event) error { return enc.Encode(ev) })
		},
	}
}
