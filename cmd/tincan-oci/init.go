package main

import (
	"os"

	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime/initproc"
)

func initCommand() *cli.Command {
	return &cli.Command{
		Name:    "init",
		Summary: "initialize the namespaces and launch the process (do not call it outside of tincan-oci)",
		Hidden:  true,
		Run:     func([]string) error { initMain(); return nil },
	}
}

// initMain is the container's init; it only returns by exiting.
func initMain() {
	if err := initproc.Run(); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}
