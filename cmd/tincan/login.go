package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/image"
)

func (c *cli) loginCommand() *cobra.Command {
	var username, password string
	var passwordStdin, tlsVerify bool
	cmd := &cobra.Command{
		Use:   "login [flags] [SERVER]",
		Short: "Log in to a registry",
		Long: `Check a username and password with a registry and store them in the docker
config ($DOCKER_CONFIG/config.json or ~/.docker/config.json), where pull and
push (and docker, podman, skopeo) find them. SERVER defaults to Docker Hub.`,
		Example: "  echo \"$TOKEN\" | tincan login -u me --password-stdin localhost:5000",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			if passwordStdin {
				if password != "" {
					return errdefs.InvalidArgument("--password and --password-stdin are mutually exclusive")
				}
				data, err := io.ReadAll(io.LimitReader(os.Stdin, 1<<16))
				if err != nil {
					return fmt.Errorf("read password from stdin: %w", err)
				}
				password = strings.TrimRight(string(data), "\r\n")
			}
			if username == "" || password == "" {
				var err error
				if username, password, err = promptCredentials(username, password); err != nil {
					return err
				}
			}
			s, err := c.images()
			if err != nil {
				return err
			}
			host, err := s.Login(cmd.Context(), server, username, password, image.RegistryOptions{SkipTLSVerify: !tlsVerify})
			if err != nil {
				return err
			}
			fmt.Printf("Login Succeeded (%s)\n", host)
			return nil
		},
	}
	cmd.Flags().StringVarP(&username, "username", "u", "", "user name")
	cmd.Flags().StringVarP(&password, "password", "p", "", "password (prefer --password-stdin)")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin")
	cmd.Flags().BoolVar(&tlsVerify, "tls-verify", true, "require https with a verified certificate")
	return cmd
}

// promptCredentials asks for what the flags did not give, on a terminal.
func promptCredentials(username, password string) (string, string, error) {
	if !isTerminal(os.Stdin) {
		return "", "", errdefs.InvalidArgument("login: give --username and --password-stdin (stdin is not a terminal)")
	}
	in := bufio.NewReader(os.Stdin)
	if username == "" {
		fmt.Fprint(os.Stderr, "Username: ")
		line, err := in.ReadString('\n')
		if err != nil {
			return "", "", fmt.Errorf("read username: %w", err)
		}
		username = strings.TrimSpace(line)
	}
	if password == "" {
		fmt.Fprint(os.Stderr, "Password: ")
		restore := noEcho(os.Stdin)
		line, err := in.ReadString('\n')
		restore()
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return "", "", fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	return username, password, nil
}

func (c *cli) logoutCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Remove a registry's stored credentials",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := ""
			if len(args) == 1 {
				server = args[0]
			}
			s, err := c.images()
			if err != nil {
				return err
			}
			host, err := s.Logout(server)
			if err != nil {
				return err
			}
			fmt.Printf("Removing login credentials for %s\n", host)
			return nil
		},
	}
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// noEcho turns the terminal's echo off and returns the restore.
func noEcho(f *os.File) func() {
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return func() {}
	}
	saved := *t
	t.Lflag &^= unix.ECHO
	unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
	return func() { unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, &saved) }
}
