package main

import (
	"flag"
	"os"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/internal/cli"
	"github.com/tincan/tincan/runtime"
)

func updateCommand() *cli.Command {
	var (
		f         runtime.UpdateFlags
		resources string
		l3, membw string
	)
	return &cli.Command{
		Name:    "update",
		Args:    "<container-id>",
		Summary: "update the resource limits of a container",
		Help: `Either flags or -r FILE (linux.resources JSON, "-" for stdin). Memory sizes take
k, m, g, t or p suffixes; -1 is unlimited. Fields not given keep their values.`,
		Flags: func(fs *flag.FlagSet) {
			cli.StringVarP(fs, &resources, "resources", "r", "", "path to the file containing the resources to update or '-' to read from the standard input")
			fs.StringVar(&f.BlkioWeight, "blkio-weight", "", "specifies per cgroup weight, range is from 10 to 1000")
			fs.StringVar(&f.CPUPeriod, "cpu-period", "", "CPU CFS period to be used for hardcapping (in usecs)")
			fs.StringVar(&f.CPUQuota, "cpu-quota", "", "CPU CFS hardcap limit (in usecs); allowed cpu time in a given period")
			fs.StringVar(&f.CPUBurst, "cpu-burst", "", "CPU CFS hardcap burst limit (in usecs)")
			fs.StringVar(&f.CPUShares, "cpu-share", "", "CPU shares (relative weight vs. other containers)")
			fs.StringVar(&f.CPURtPeriod, "cpu-rt-period", "", "CPU realtime period to be used for hardcapping (in usecs)")
			fs.StringVar(&f.CPURtRuntime, "cpu-rt-runtime", "", "CPU realtime hardcap limit (in usecs)")
			fs.StringVar(&f.CpusetCpus, "cpuset-cpus", "", "CPU(s) to use")
			fs.StringVar(&f.CpusetMems, "cpuset-mems", "", "memory node(s) to use")
			fs.StringVar(&f.KernelMemory, "kernel-memory", "", "kernel memory limit (in bytes) (deprecated)")
			fs.StringVar(&f.KernelMemoryTCP, "kernel-memory-tcp", "", "kernel memory limit for tcp buffer (in bytes) (deprecated)")
			fs.StringVar(&f.Memory, "memory", "", "memory limit (in bytes)")
			fs.StringVar(&f.MemoryReservation, "memory-reservation", "", "memory reservation or soft_limit (in bytes)")
			fs.StringVar(&f.MemorySwap, "memory-swap", "", "total memory usage (memory + swap); set '-1' to enable unlimited swap")
			fs.StringVar(&f.PidsLimit, "pids-limit", "", "maximum number of pids allowed in the container")
			fs.StringVar(&l3, "l3-cache-schema", "", "the string of Intel RDT/CAT L3 cache schema (not supported)")
			fs.StringVar(&membw, "mem-bw-schema", "", "the string of Intel RDT/MBA memory bandwidth schema (not supported)")
		},
		Run: func(args []string) error {
			id, err := oneID("update", args)
			if err != nil {
				return err
			}
			if l3 != "" || membw != "" {
				return errdefs.Unsupported("--l3-cache-schema, --mem-bw-schema: Intel RDT is not supported by this tincan-oci")
			}
			r, err := f.Resources()
			if err != nil {
				return err
			}
			if resources != "" {
				if r != nil {
					return errdefs.InvalidArgument("update: give either -r or resource flags, not both")
				}
				in := os.Stdin
				if resources != "-" {
					if in, err = os.Open(resources); err != nil {
						return errdefs.InvalidArgument("-r: %w", err)
					}
					defer in.Close()
				}
				if r, err = runtime.ReadResources(in, resources); err != nil {
					return err
				}
			}
			if r == nil {
				return usageErr("update", "nothing to update: give resource flags or -r")
			}
			c, err := runtime.Load(global.root, id)
			if err != nil {
				return err
			}
			return c.Update(r, global.log)
		},
	}
}
