package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/tincan/tincan/errdefs"
)

// RegistriesFile is the system-wide registries configuration; a
// registries.json in the data root takes precedence.
const RegistriesFile = "/etc/tincan/registries.json"

// Registries is the registries configuration:
//
//	{
//	  "default":  "docker.io",               registry of names without one
//	  "search":   ["docker.io", "quay.io"],  tried in order for such names
//	  "insecure": ["10.0.0.0/8", "reg:5000"] plain http and no TLS verification
//	}
//
// Registries on loopback addresses (localhost, 127.0.0.0/8, ::1) are always
// reached over plain http when they do not speak TLS, as docker does.
type Registries struct {
	// Default is the registry of names that give none ("docker.io").
	Default string `json:"default,omitempty"`
	// Search lists the registries tried, in order, for names that give
	// none; empty: only Default (docker's behaviour).
	Search []string `json:"search,omitempty"`
	// Insecure lists registries (host, host:port or CIDR) that may be
	// reached over plain http and whose certificates are not verified.
	Insecure []string `json:"insecure,omitempty"`
}

// loadRegistries reads the first of paths that exists; none: defaults.
func loadRegistries(paths ...string) (*Registries, error) {
	r := &Registries{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read registries configuration: %w", err)
		}
		if err := json.Unmarshal(data, r); err != nil {
			return nil, errdefs.InvalidArgument("registries configuration %s: %v", p, err)
		}
		break
	}
	if r.Default == "" {
		r.Default = DockerHub
	}
	if !validDomain(r.Default) {
		return nil, errdefs.InvalidArgument("registries configuration: bad default registry %q", r.Default)
	}
	for _, s := range r.Search {
		if !validDomain(s) {
			return nil, errdefs.InvalidArgument("registries configuration: bad search registry %q", s)
		}
	}
	return r, nil
}

// Candidates returns the references to try for s, in order: one for a
// qualified name, one per search registry for a short name.
func (r *Registries) Candidates(s string) ([]Reference, error) {
	ref, short, err := ParseReference(s, r.Default)
	if err != nil || !short || len(r.Search) == 0 {
		return []Reference{ref}, err
	}
	var refs []Reference
	for _, domain := range r.Search {
		c, _, err := ParseReference(s, domain)
		if err != nil {
			return nil, err
		}
		refs = append(refs, c)
	}
	return refs, nil
}

// AllowsHTTP reports whether host (host[:port]) may be reached over plain
// http: loopback hosts and the insecure list.
func (r *Registries) AllowsHTTP(host string) bool {
	return isLoopback(host) || r.isInsecure(host)
}

// SkipsTLSVerify reports whether host's certificate goes unverified.
func (r *Registries) SkipsTLSVerify(host string) bool { return r.isInsecure(host) }

func (r *Registries) isInsecure(host string) bool {
	bare := stripPort(host)
	ip := net.ParseIP(bare)
	for _, entry := range r.Insecure {
		if entry == host || entry == bare {
			return true
		}
		if _, cidr, err := net.ParseCIDR(entry); err == nil && ip != nil && cidr.Contains(ip) {
			return true
		}
	}
	return false
}

func isLoopback(host string) bool {
	h := stripPort(host)
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// stripPort removes ":port" and IPv6 brackets.
func stripPort(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.Trim(host, "[]")
}
