package main

import (
	"os"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/engine"
)

func (c *cli) execCommand() *cobra.Command {
	var (
		interactive, tty, detach, privileged bool
		env, envFiles                        []string
		user, workdir                        string
	)
	cmd := &cobra.Command{
		Use:   "exec [flags] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Long: `Run a new process in a running container: in its namespaces, cgroup and
root, with its capabilities, seccomp filter, no_new_privs and environment.
In the foreground tincan waits for it, forwards signals, and exits with its
status; 126 when the command cannot be executed, 127 when it is not found.`,
		Example: `  tincan exec web ls /www
  tincan exec -it web sh                      # an interactive shell
  tincan exec -u nobody -w /tmp -e DEBUG=1 web id
  tincan exec -d web sh -c 'sleep 60 > /dev/null'`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := engine.ExecOptions{Cmd: args[1:], User: user, WorkingDir: workdir, Tty: tty,
				Detach: detach, Privileged: privileged, Stdout: os.Stdout, Stderr: os.Stderr, Debug: c.debug}
			for _, file := range envFiles {
				vals, err := engine.ReadEnvFile(file)
				if err != nil {
					return err
				}
				o.Env = append(o.Env, vals...)
			}
			vals, err := engine.ParseEnv(env)
			if err != nil {
				return err
			}
			o.Env = append(o.Env, vals...)
			if interactive {
				o.Stdin = os.Stdin
			}
			code, err := c.store.Exec(args[0], o)
			if err != nil {
				return err
			}
			if code != 0 {
				return statusError(code)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.SetInterspersed(false) // flags after the command belong to it
	fl.BoolVarP(&interactive, "interactive", "i", false, "keep stdin open")
	fl.BoolVarP(&tty, "tty", "t", false, "allocate a pseudo-terminal")
	fl.BoolVarP(&detach, "detach", "d", false, "run the command in the background")
	fl.StringArrayVarP(&env, "env", "e", nil, "set an environment variable (KEY=VALUE, or KEY to copy yours)")
	fl.StringArrayVar(&envFiles, "env-file", nil, "read environment variables from a file")
	fl.StringVarP(&user, "user", "u", "", "user[:group] to run as (name or id, from the container's /etc/passwd)")
	fl.StringVarP(&workdir, "workdir", "w", "", "working directory inside the container")
	fl.BoolVar(&privileged, "privileged", false, "give the command every capability")
	return cmd
}
