package engine

import (
	"os"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func TestNetworkFlags(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: the default network mode is pasta for others")
	}
	var c RunConfig
	if err := (NetworkFlags{}).Apply(&c); err != nil || c.Network != NetworkBridge || len(c.Networks) != 1 || c.Networks[0].Network != "bridge" {
		t.Fatalf("default: %v %+v", err, c)
	}
	c = RunConfig{}
	err := NetworkFlags{Networks: []string{"app", "db"}, IP: "10.1.0.5", MAC: "02:42:00:00:00:01", Aliases: []string{"web"},
		Publish: []string{"8080:80", "53/udp"}, AddHosts: []string{"x:10.0.0.1"}, DNS: []string{"1.1.1.1"}}.Apply(&c)
	if err != nil || len(c.Networks) != 2 || c.Networks[0].IPv4.String() != "10.1.0.5" || c.Networks[0].MAC == "" ||
		len(c.Networks[0].Aliases) != 1 || len(c.Networks[1].Aliases) != 0 || len(c.Publish) != 2 || c.ExtraHosts[0] != "x:10.0.0.1" {
		t.Fatalf("user networks: %v %+v", err, c)
	}
	for _, f := range []NetworkFlags{
		{Networks: []string{"none"}, Publish: []string{"80"}},
		{Networks: []string{"host"}, IP: "10.0.0.2"},
		{Networks: []string{"container:x"}, DNS: []string{"1.1.1.1"}},
		{Networks: []string{"container:"}},
		{Networks: []string{"app", "host"}},
		{Aliases: []string{"a"}},
		{IP: "fd00::1"},
		{IP6: "10.0.0.1"},
		{Publish: []string{"99999"}},
		{DNS: []string{"dns.example"}},
		{AddHosts: []string{"nohost"}},
		{Networks: []string{"../x"}},
	} {
		var c RunConfig
		if err := f.Apply(&c); !errdefs.IsInvalidArgument(err) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v, want a one-line invalid argument", f, err)
		}
	}
}

func TestPortsToPublishAddsExposedPortsWithP(t *testing.T) {
	var c RunConfig
	if err := (NetworkFlags{Networks: []string{"bridge"}, Publish: []string{"8080:80"}, PublishAll: true}).Apply(&c); err != nil {
		t.Fatal(err)
	}
	c.ExposedPorts = []string{"80/tcp", "53/udp", "443"}
	ms, err := portsToPublish(&c)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, m := range ms {
		keys = append(keys, m.Key())
		if m.Key() == "80/tcp" && m.HostPort != 8080 {
			t.Errorf("-p 8080:80 replaced by -P's random port: %+v", m)
		}
	}
	if strings.Join(keys, " ") != "80/tcp 53/udp 443/tcp" {
		t.Errorf("published %v, want 80/tcp (once), 53/udp, 443/tcp", keys)
	}
	c.PublishAll = false
	if ms, _ := portsToPublish(&c); len(ms) != 1 {
		t.Errorf("without -P: %v", ms)
	}
}
