package main

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/tincan/tincan/errdefs"
	"github.com/tincan/tincan/network"
	"github.com/tincan/tincan/network/portmap"
)

func (c *cli) networkCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "network", Short: "Manage bridge networks",
		Example: "  tincan network create app\n  tincan run -d --network app --name db --rootfs ./rootfs httpd -f\n" +
			"  tincan run --network app --rootfs ./rootfs wget -O- http://db/\n  tincan network rm app"}
	cmd.AddCommand(c.networkCreateCommand(), c.networkLsCommand(), c.networkInspectCommand(),
		c.networkRmCommand(), c.networkConnectCommand(), c.networkDisconnectCommand(), c.networkPruneCommand())
	return cmd
}

func (c *cli) networkCreateCommand() *cobra.Command {
	var subnet, gateway, subnet6 string
	var ipv6 bool
	var mtu int
	var labels []string
	cmd := &cobra.Command{
		Use:     "create [flags] NAME",
		Short:   "Create a user-defined bridge network",
		Example: "  tincan network create app\n  tincan network create --subnet 10.90.0.0/24 --ipv6 app6",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := network.CreateOptions{Name: args[0], IPv6: ipv6, MTU: mtu}
			var err error
			if subnet != "" {
				if o.Subnet, err = netip.ParsePrefix(subnet); err != nil || !o.Subnet.Addr().Is4() {
					return errdefs.InvalidArgument("invalid --subnet %q: want an IPv4 CIDR such as 10.90.0.0/24", subnet)
				}
			}
			if subnet6 != "" {
				if o.Subnet6, err = netip.ParsePrefix(subnet6); err != nil || !o.Subnet6.Addr().Is6() {
					return errdefs.InvalidArgument("invalid --subnet6 %q: want an IPv6 CIDR such as fd00:1::/64", subnet6)
				}
			}
			if gateway != "" {
				if o.Gateway, err = netip.ParseAddr(gateway); err != nil {
					return errdefs.InvalidArgument("invalid --gateway %q", gateway)
				}
			}
			if mtu < 0 || mtu > 65535 || (mtu > 0 && mtu < 68) {
				return errdefs.InvalidArgument("invalid --mtu %d", mtu)
			}
			if o.Labels, err = parseLabels(labels); err != nil {
				return err
			}
			n, err := c.store.Networks().Create(o)
			if err != nil {
				return err
			}
			fmt.Println(n.ID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&subnet, "subnet", "", "IPv4 subnet in CIDR form (default: a free /24 of 10.78.0.0/15)")
	fl.StringVar(&gateway, "gateway", "", "IPv4 gateway (default: the subnet's first address)")
	fl.BoolVar(&ipv6, "ipv6", false, "give containers IPv6 addresses too")
	fl.StringVar(&subnet6, "subnet6", "", "IPv6 subnet (implies --ipv6; default: a random ULA /64)")
	fl.IntVar(&mtu, "mtu", 0, "MTU of the bridge and the containers' interfaces (default: the host's)")
	fl.StringArrayVarP(&labels, "label", "l", nil, "set a label KEY=VALUE")
	return cmd
}

// parseLabels turns KEY=VALUE flags into a map.
func parseLabels(labels []string) (map[string]string, error) {
	if len(labels) == 0 {
		return nil, nil
	}
	m := map[string]string{}
	for _, l := range labels {
		k, v, _ := strings.Cut(l, "=")
		if k == "" {
			return nil, errdefs.InvalidArgument("invalid label %q: want KEY=VALUE", l)
		}
		m[k] = v
	}
	return m, nil
}

func (c *cli) networkLsCommand() *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List networks",
		Example: "  tincan network ls",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			nets, err := c.store.Networks().List()
			if err != nil {
				return err
			}
			if quiet {
				for _, n := range nets {
					fmt.Println(n.ShortID())
				}
				return nil
			}
			w := tabwriter.NewWriter(os.Stdout, 3, 1, 3, ' ', 0)
			fmt.Fprintln(w, "NETWORK ID\tNAME\tDRIVER\tSUBNETS\tBRIDGE")
			for _, n := range nets {
				var subnets []string
				for _, s := range n.Subnets {
					subnets = append(subnets, s.Subnet.String())
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", n.ShortID(), n.Name, n.Driver, strings.Join(subnets, ","), n.Bridge)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "only show ids")
	return cmd
}

// networkView is what network inspect prints.
type networkView struct {
	*network.Network
	Containers map[string]network.Endpoint `json:"containers"`
}

func (c *cli) networkInspectCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "inspect NETWORK...",
		Short:   "Show networks and their containers as JSON",
		Example: "  tincan network inspect app",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			views := []networkView{}
			var errs int
			for _, ref := range args {
				n, eps, err := c.store.Networks().Inspect(ref)
				if err != nil {
					printError(err)
					errs++
					continue
				}
				v := networkView{Network: n, Containers: map[string]network.Endpoint{}}
				for _, e := range eps {
					v.Containers[e.Container] = e
				}
				views = append(views, v)
			}
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "    ")
			if err := enc.Encode(views); err != nil {
				return err
			}
			if errs > 0 {
				return quietError{fmt.Errorf("%d of %d failed", errs, len(args))}
			}
			return nil
		},
	}
}

func (c *cli) networkRmCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "rm NETWORK...",
		Aliases: []string{"remove"},
		Short:   "Remove networks no container uses",
		Example: "  tincan network rm app",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return forEach(args, func(ref string) error {
				_, err := c.store.RemoveNetwork(ref)
				return err
			})
		},
	}
}

func (c *cli) networkConnectCommand() *cobra.Command {
	var aliases []string
	var ip, ip6 string
	cmd := &cobra.Command{
		Use:     "connect [flags] NETWORK CONTAINER",
		Short:   "Connect a container to a network (at once when it runs)",
		Example: "  tincan network connect --alias cache app redis",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a := network.Attachment{Aliases: aliases}
			for _, v := range []struct {
				flag, val string
				dst       *netip.Addr
			}{{"--ip", ip, &a.IPv4}, {"--ip6", ip6, &a.IPv6}} {
				if v.val == "" {
					continue
				}
				addr, err := netip.ParseAddr(v.val)
				if err != nil {
					return errdefs.InvalidArgument("invalid %s %q", v.flag, v.val)
				}
				*v.dst = addr
			}
			return c.store.ConnectNetwork(args[0], args[1], a)
		},
	}
	cmd.Flags().StringArrayVar(&aliases, "alias", nil, "add a network-scoped alias for the container")
	cmd.Flags().StringVar(&ip, "ip", "", "IPv4 address")
	cmd.Flags().StringVar(&ip6, "ip6", "", "IPv6 address")
	return cmd
}

func (c *cli) networkDisconnectCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "disconnect NETWORK CONTAINER",
		Short:   "Disconnect a container from a network",
		Example: "  tincan network disconnect app web",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return c.store.DisconnectNetwork(args[0], args[1])
		},
	}
}

func (c *cli) networkPruneCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "prune",
		Short:   "Remove unused user networks and what crashed containers left (veths, rules, leases)",
		Example: "  tincan network prune",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			removed, err := c.store.PruneNetworks()
			for _, r := range removed {
				fmt.Println(r)
			}
			return err
		},
	}
	// docker asks for confirmation without -f; tincan never asks.
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask (tincan never does)")
	return cmd
}

func (c *cli) portCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short:   "List a running container's published ports",
		Example: "  tincan port web\n  tincan port web 80/tcp",
		Args:    cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			rec, ports, err := c.store.Ports(args[0])
			if err != nil {
				return err
			}
			if len(args) == 1 {
				for _, l := range portmap.Lines(ports) {
					fmt.Println(l)
				}
				return nil
			}
			want := args[1]
			if !strings.Contains(want, "/") {
				want += "/tcp"
			}
			var found []portmap.Mapping
			for _, m := range ports {
				if m.Key() == want {
					found = append(found, m)
				}
			}
			if len(found) == 0 {
				return errdefs.NotFound("no public port '%s' published for %s", want, rec.Name)
			}
			for _, l := range portmap.Lines(found) {
				// Filtered by port, docker prints only the host side.
				_, host, _ := strings.Cut(l, " -> ")
				fmt.Println(host)
			}
			return nil
		},
	}
}
