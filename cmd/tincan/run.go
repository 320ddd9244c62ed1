package main

import (
	"context"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/engine"
	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/image"
)

// runFlags are the flags of run (and create).
type runFlags struct {
	name, rootfs, workdir, user, hostname, memory, memorySwap          string
	stopSignal, entrypoint, pull                                       string
	detach, rm, interactive, tty, readOnly, privileged, init, rootfsRW bool
	cpus                                                               float64
	cpuShares                                                          uint64
	pidsLimit                                                          int64
	stopTimeout                                                        int
	env, envFiles, volumes, tmpfs, ulimits, capAdd, capDrop            []string
	securityOpts, labels                                               []string
	net                                                                engine.NetworkFlags
}

func (f *runFlags) define(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.SetInterspersed(false) // flags after the command belong to it
	fl.StringVar(&f.name, "name", "", "name of the container (generated when empty)")
	fl.StringVar(&f.rootfs, "rootfs", "", "root filesystem directory to run (on a copy-on-write overlay) instead of an image")
	fl.StringVar(&f.pull, "pull", "missing", "when to pull the image: always, missing or never")
	fl.BoolVar(&f.rootfsRW, "rootfs-rw", false, "run directly on --rootfs, writing to it (no overlay)")
	fl.BoolVarP(&f.detach, "detach", "d", false, "run in the background and print the container id")
	fl.BoolVar(&f.rm, "rm", false, "remove the container when it exits")
	fl.BoolVarP(&f.interactive, "interactive", "i", false, "keep stdin open")
	fl.BoolVarP(&f.tty, "tty", "t", false, "allocate a pseudo-terminal")
	fl.StringArrayVarP(&f.env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy yours)")
	fl.StringArrayVar(&f.envFiles, "env-file", nil, "read environment variables from a file")
	fl.StringVarP(&f.workdir, "workdir", "w", "", "working directory inside the container")
	fl.StringVarP(&f.user, "user", "u", "", "user[:group] to run as (name or id)")
	fl.StringArrayVarP(&f.volumes, "volume", "v", nil, "bind mount HOST:CTR[:ro|rw], named volume NAME:CTR, or anonymous volume CTR")
	fl.StringArrayVar(&f.tmpfs, "tmpfs", nil, "mount a tmpfs at PATH[:options]")
	fl.BoolVar(&f.readOnly, "read-only", false, "mount the root filesystem read-only")
	fl.StringVar(&f.hostname, "hostname", "", "container hostname (default: the short id)")
	fl.StringVarP(&f.memory, "memory", "m", "", "memory limit (e.g. 512m)")
	fl.StringVar(&f.memorySwap, "memory-swap", "", "memory plus swap limit (-1: unlimited swap)")
	fl.Float64Var(&f.cpus, "cpus", 0, "number of CPUs (e.g. 1.5)")
	fl.Uint64Var(&f.cpuShares, "cpu-shares", 0, "CPU shares (relative weight)")
	fl.Int64Var(&f.pidsLimit, "pids-limit", 0, "maximum number of processes (-1: unlimited)")
	fl.StringArrayVar(&f.ulimits, "ulimit", nil, "resource limit NAME=SOFT[:HARD] (e.g. nofile=1024:2048)")
	fl.StringArrayVar(&f.capAdd, "cap-add", nil, "add a capability (or ALL)")
	fl.StringArrayVar(&f.capDrop, "cap-drop", nil, "drop a capability (or ALL)")
	fl.BoolVar(&f.privileged, "privileged", false, "give every capability and the host's devices, no seccomp")
	fl.StringArrayVar(&f.securityOpts, "security-opt", nil, "seccomp=FILE|unconfined, no-new-privileges, landlock=JSON")
	fl.BoolVar(&f.init, "init", false, "run tincan's init as PID 1 (reaps zombies, forwards signals)")
	fl.StringVar(&f.stopSignal, "stop-signal", "", "signal to stop the container (default SIGTERM)")
	fl.IntVar(&f.stopTimeout, "stop-timeout", -1, "seconds to wait for stop before killing")
	fl.StringVar(&f.entrypoint, "entrypoint", "", "override the entrypoint (\"\" clears it)")
	fl.StringArrayVarP(&f.labels, "label", "l", nil, "set a label KEY=VALUE")
	fl.StringArrayVar(&f.net.Networks, "network", nil, "network: bridge (default; root), NAME (a user network; repeat for several), none, host, container:NAME, pasta (default rootless)")
	fl.StringArrayVar(&f.net.Networks, "net", nil, "same as --network")
	fl.MarkHidden("net")
	fl.StringArrayVarP(&f.net.Publish, "publish", "p", nil, "publish a port: [IP:][HOSTPORT:]PORT[/tcp|udp], ranges allowed")
	fl.BoolVarP(&f.net.PublishAll, "publish-all", "P", false, "publish the image's exposed ports on random host ports")
	fl.StringVar(&f.net.IP, "ip", "", "IPv4 address on the first network")
	fl.StringVar(&f.net.IP6, "ip6", "", "IPv6 address on the first network")
	fl.StringVar(&f.net.MAC, "mac-address", "", "MAC address on the first network")
	fl.StringArrayVar(&f.net.Aliases, "network-alias", nil, "another name for the container on its user network")
	fl.StringArrayVar(&f.net.DNS, "dns", nil, "DNS server for /etc/resolv.conf (replaces the host's)")
	fl.StringArrayVar(&f.net.DNSSearch, "dns-search", nil, "DNS search domain (\".\" for none)")
	fl.StringArrayVar(&f.net.DNSOptions, "dns-option", nil, "resolv.conf option (e.g. ndots:2)")
	fl.StringArrayVar(&f.net.AddHosts, "add-host", nil, "add NAME:IP to /etc/hosts")
}

// config turns the flags and arguments into a RunConfig.
func (f *runFlags) config(cmd *cobra.Command, args []string) (engine.RunConfig, error) {
	c := engine.RunConfig{
		Rootfs: f.rootfs, RootfsRW: f.rootfsRW, WorkingDir: f.workdir, User: f.user,
		Hostname: f.hostname, Tty: f.tty, Interactive: f.interactive, ReadOnly: f.readOnly,
		CapAdd: f.capAdd, CapDrop: f.capDrop, Privileged: f.privileged, Init: f.init,
		StopSignal: f.stopSignal, AutoRemove: f.rm,
	}
	switch {
	case f.rootfs != "":
		// With --rootfs every argument is the command.
		if cmd.Flags().Changed("pull") {
			return c, errdefs.InvalidArgument("--pull applies to images, not to --rootfs %s: give an image or --rootfs, not both", f.rootfs)
		}
		c.Cmd = args
	case f.rootfsRW:
		return c, errdefs.InvalidArgument("--rootfs-rw needs --rootfs DIR (a container from an image always runs on its own overlay)")
	case len(args) == 0:
		return c, errdefs.InvalidArgument("no image: tincan run [flags] IMAGE [COMMAND...], or --rootfs DIR COMMAND...")
	default:
		c.Image, c.Cmd = args[0], args[1:]
	}
	if cmd.Flags().Changed("entrypoint") {
		c.Entrypoint = []string{}
		if f.entrypoint != "" {
			c.Entrypoint = []string{f.entrypoint}
		}
	}
	if err := f.net.Apply(&c); err != nil {
		return c, err
	}
	var err error
	for _, file := range f.envFiles {
		vals, err := engine.ReadEnvFile(file)
		if err != nil {
			return c, err
		}
		c.Env = append(c.Env, vals...)
	}
	vals, err := engine.ParseEnv(f.env)
	if err != nil {
		return c, err
	}
	c.Env = append(c.Env, vals...)
	for _, v := range f.volumes {
		m, err := engine.ParseVolume(v, engine.AnonymousVolumeName)
		if err != nil {
			return c, err
		}
		c.Mounts = append(c.Mounts, m)
	}
	for _, t := range f.tmpfs {
		dest, opts, _ := strings.Cut(t, ":")
		if !strings.HasPrefix(dest, "/") {
			return c, errdefs.InvalidArgument("--tmpfs %s: the path must be absolute", t)
		}
		if c.Tmpfs == nil {
			c.Tmpfs = map[string]string{}
		}
		c.Tmpfs[dest] = opts
	}
	if f.memory != "" {
		if c.Memory, err = engine.ParseBytes("--memory", f.memory); err != nil {
			return c, err
		}
	}
	if f.memorySwap == "-1" {
		c.MemorySwap = -1
	} else if f.memorySwap != "" {
		if c.MemorySwap, err = engine.ParseBytes("--memory-swap", f.memorySwap); err != nil {
			return c, err
		}
	}
	if f.cpus < 0 {
		return c, errdefs.InvalidArgument("--cpus %v: must not be negative", f.cpus)
	}
	c.CPUs, c.CPUShares, c.PidsLimit = f.cpus, f.cpuShares, f.pidsLimit
	for _, u := range f.ulimits {
		ul, err := engine.ParseUlimit(u)
		if err != nil {
			return c, err
		}
		c.Ulimits = append(c.Ulimits, ul)
	}
	for _, o := range f.securityOpts {
		key, val, _ := strings.Cut(o, "=")
		switch {
		case key == "seccomp" && val != "":
			c.Seccomp = val
		case key == "no-new-privileges" && (val == "" || val == "true"):
			c.NoNewPrivileges = true
		case key == "no-new-privileges" && val == "false":
			c.NoNewPrivileges = false
		case key == "landlock" && val != "":
			c.Landlock = val
		default:
			return c, errdefs.InvalidArgument("--security-opt %q: want seccomp=FILE|unconfined, no-new-privileges or landlock=JSON", o)
		}
	}
	if f.stopTimeout >= 0 {
		t := f.stopTimeout
		c.StopTimeout = &t
	}
	for _, l := range f.labels {
		k, v, _ := strings.Cut(l, "=")
		if c.Labels == nil {
			c.Labels = map[string]string{}
		}
		c.Labels[k] = v
	}
	return c, nil
}

func (c *cli) runCommand() *cobra.Command {
	var f runFlags
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Run a command in a new container",
		Long: `Run a command in a new container, from an image (pulled when missing, see
--pull; its entrypoint, command, environment, working directory, user,
stop signal, labels and volumes apply, the run's flags and arguments
override them as with docker) or from a root filesystem directory:
"tincan run [flags] --rootfs DIR COMMAND [ARG...]". Either way the
container writes to a copy-on-write layer of its own, removed with it.`,
		Example: `  tincan run busybox echo hello                      # prints hello, exits with its status
  tincan run --rm -it alpine sh                      # an interactive shell, removed on exit
  tincan run -d --name web --pull always registry.example:5000/web
  tincan run --entrypoint /bin/sh busybox -c 'id'
  tincan run --rootfs ./rootfs echo hello            # a directory instead of an image
  tincan run --memory 64m --pids-limit 100 --cap-drop ALL busybox sh -c 'id'
  tincan run -v /srv/data:/data:ro -e MODE=prod --rootfs ./rootfs ./app`,
		RunE: func(cmd *cobra.Command, args []string) error {
			conf, err := f.config(cmd, args)
			if err != nil {
				return err
			}
			opts := engine.CreateOptions{Name: f.name, Config: conf, Seccomp: seccompFor(conf.Seccomp), Warn: warn}
			if conf.Image != "" {
				policy, err := image.ParsePullPolicy(f.pull)
				if err != nil {
					return err
				}
				imgs, err := c.images()
				if err != nil {
					return err
				}
				// Pull progress on a terminal only: run's output is the
				// container's.
				mode := image.ProgressQuiet
				if isTerminal(os.Stderr) {
					mode = image.ProgressAuto
				}
				progress := image.NewProgress(os.Stderr, mode)
				opts.Image = &engine.ImageSource{Store: imgs, Pull: policy,
					PullOptions: image.PullOptions{Progress: progress}}
			}
			return c.run(cmd.Context(), opts, f.detach)
		},
	}
	f.define(cmd)
	return cmd
}

// run creates the container and runs it, attached or detached.
func (c *cli) run(ctx context.Context, opts engine.CreateOptions, detach bool) error {
	rec, err := c.store.Create(ctx, opts)
	if opts.Image != nil {
		// The pull's bars are done: what follows is the container's.
		opts.Image.PullOptions.Progress.Wait()
	}
	if err != nil {
		return err
	}
	if detach {
		if err := c.store.StartMonitor(rec, false, c.debug, nil); err != nil {
			return err
		}
		os.Stdout.WriteString(rec.ID + "\n")
		return nil
	}
	return c.startAttached(rec)
}

// startAttached starts a container's monitor and relays its stdio until
// it exits, returning its status.
func (c *cli) startAttached(rec *engine.Record) error {
	var att *engine.Attachment
	err := c.store.StartMonitor(rec, true, c.debug, func() error {
		var err error
		if att, err = c.store.Attach(rec); err != nil {
			return err
		}
		return att.SendStart()
	})
	if err != nil {
		return err
	}
	var stdin *os.File
	if rec.Config.Interactive {
		stdin = os.Stdin
	}
	code, err := att.Stream(engine.StreamOptions{
		Stdin: stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Tty: rec.Config.Tty, ProxySignals: !rec.Config.Tty,
	})
	if err != nil {
		return err
	}
	if code != 0 {
		return statusError(code)
	}
	return nil
}
