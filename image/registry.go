package image

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	digest "github.com/opencontainers/go-digest"

	"github.com/tincan/tincan/errdefs"
)

// RegistryOptions are the per-command registry choices.
type RegistryOptions struct {
	// SkipTLSVerify (--tls-verify=false) allows plain http and unverified
	// certificates for this command's registry.
	SkipTLSVerify bool
}

// repository is an authenticated connection to one repository.
type repository struct {
	ref    Reference
	repo   name.Repository
	rt     http.RoundTripper // authenticated for the requested scope
	client *http.Client
}

// connect pings ref's registry, authenticates with the credentials the
// docker config gives it, and returns a connection for scope
// (transport.PullScope or PushScope).
func (s *Store) connect(ctx context.Context, ref Reference, opts RegistryOptions, scope string) (*repository, error) {
	repo, base, err := s.repoAndTransport(ref, opts)
	if err != nil {
		return nil, err
	}
	auth, err := authn.DefaultKeychain.Resolve(repo)
	if err != nil {
		return nil, fmt.Errorf("credentials for %s: %w", ref.Domain, err)
	}
	rt, err := transport.NewWithContext(ctx, repo.Registry, auth, base, []string{repo.Scope(scope)})
	if err != nil {
		return nil, registryError(ref, err)
	}
	return &repository{ref: ref, repo: repo, rt: rt, client: &http.Client{Transport: rt}}, nil
}

// repoAndTransport returns ggcr's repository name (marked insecure when
// plain http is allowed, so that ggcr tries it) and the base transport
// enforcing the http and TLS policy.
func (s *Store) repoAndTransport(ref Reference, opts RegistryOptions) (name.Repository, http.RoundTripper, error) {
	regs, err := s.Registries()
	if err != nil {
		return name.Repository{}, nil, err
	}
	allowHTTP := opts.SkipTLSVerify || regs.AllowsHTTP(ref.Domain)
	skipVerify := opts.SkipTLSVerify || regs.SkipsTLSVerify(ref.Domain)
	var nopts []name.Option
	if allowHTTP {
		nopts = append(nopts, name.Insecure)
	}
	repo, err := name.NewRepository(ref.Name(), nopts...)
	if err != nil {
		return name.Repository{}, nil, errdefs.InvalidArgument("reference %s: %v", ref, err)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	if skipVerify {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the user asked for it
	}
	return repo, &httpPolicy{inner: t, registry: repo.RegistryStr(), allowHTTP: allowHTTP}, nil
}

// httpPolicy refuses plain http to the registry unless it is allowed:
// ggcr itself falls back to http for private addresses, docker does not.
type httpPolicy struct {
	inner     http.RoundTripper
	registry  string
	allowHTTP bool
}

func (p *httpPolicy) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && req.URL.Host == p.registry && !p.allowHTTP {
		return nil, fmt.Errorf("plain http to %s refused (list it as insecure in registries.json, or use --tls-verify=false)", p.registry)
	}
	return p.inner.RoundTrip(req)
}

// remoteRef is ggcr's reference for ref (by digest when it has one).
func (r *repository) remoteRef(ref Reference) name.Reference {
	if ref.Digest != "" {
		return r.repo.Digest(ref.Digest.String())
	}
	return r.repo.Tag(ref.Tag)
}

// manifest fetches the manifest or index ref names.
func (r *repository) manifest(ctx context.Context, ref Reference) (*remote.Descriptor, error) {
	desc, err := remote.Get(r.remoteRef(ref), remote.WithTransport(r.rt), remote.WithContext(ctx))
	if err != nil {
		return nil, registryError(ref, err)
	}
	return desc, nil
}

// blob opens blob d of size bytes, from offset when offset > 0. partial
// reports that the registry honoured the range (206); otherwise the body
// is the whole blob.
func (r *repository) blob(ctx context.Context, d digest.Digest, size, offset int64) (body io.ReadCloser, partial bool, err error) {
	url := fmt.Sprintf("%s://%s/v2/%s/blobs/%s", r.repo.Registry.Scheme(), r.repo.RegistryStr(), r.repo.RepositoryStr(), d)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false, err
	}
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", offset, size-1))
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, false, registryError(r.ref, err)
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.Body, false, nil
	case resp.StatusCode == http.StatusPartialContent && offset > 0 &&
		strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", offset)):
		return resp.Body, true, nil
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		resp.Body.Close()
		return r.blob(ctx, d, size, 0)
	}
	defer resp.Body.Close()
	err = transport.CheckError(resp, http.StatusOK)
	return nil, false, registryError(r.ref, fmt.Errorf("blob %s: %w", d, err))
}

// registryError turns ggcr's and net/http's errors into one line a person
// can act on, classed for the CLI.
func registryError(ref Reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) {
		codes := make([]string, 0, len(terr.Errors))
		for _, d := range terr.Errors {
			codes = append(codes, string(d.Code))
		}
		detail := strings.ToLower(strings.Join(codes, ", "))
		if detail == "" {
			detail = http.StatusText(terr.StatusCode)
		}
		switch {
		case terr.StatusCode == http.StatusNotFound || hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode):
			return errdefs.NotFound("%s: not found in registry %s (%s)", ref.FamiliarString(), ref.Domain, detail)
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden:
			return errdefs.NotFound("%s: access denied by registry %s (%s): the repository does not exist or needs 'tincan login %s'",
				ref.FamiliarString(), ref.Domain, detail, ref.Domain)
		}
		return fmt.Errorf("registry %s: %s: %s", ref.Domain, ref.FamiliarString(), detail)
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return fmt.Errorf("registry %s unreachable: %v", ref.Domain, opErr)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("registry %s unreachable: %v", ref.Domain, dnsErr)
	}
	if strings.Contains(err.Error(), "server gave HTTP response to HTTPS client") {
		return fmt.Errorf("registry %s speaks plain http: list it as insecure in registries.json, or use --tls-verify=false", ref.Domain)
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("registry %s: %w", ref.Domain, err)
}

func hasCode(e *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range e.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// FamiliarString is the reference as docker prints it.
func (r Reference) FamiliarString() string {
	s := r.FamiliarName()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest.String()
	}
	return s
}
