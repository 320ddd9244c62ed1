package image

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/tincan/tincan/errdefs"
)

// Credentials live where docker keeps them: $DOCKER_CONFIG/config.json,
// else ~/.docker/config.json ("auths", or the credential helpers it
// names), read by ggcr's default keychain and written through docker's
// own config package, so docker, podman, skopeo and tincan share logins.

// dockerHubAuthKey is the key docker files Docker Hub's credentials under.
const dockerHubAuthKey = "https://index.docker.io/v1/"

// serverHost normalises a login argument ("https://reg:5000/v2/", "reg")
// to host[:port]; "" is Docker Hub.
func serverHost(server string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://")
	s, _, _ = strings.Cut(s, "/")
	switch s {
	case "", DockerHub, "index.docker.io", "registry-1.docker.io":
		return DockerHub
	}
	return s
}

func authKey(host string) string {
	if host == DockerHub {
		return dockerHubAuthKey
	}
	return host
}

// Login checks username and password against server's registry and, when
// it accepts them, stores them in the docker config. It returns the
// registry host.
func (s *Store) Login(ctx context.Context, server, username, password string, opts RegistryOptions) (string, error) {
	host := serverHost(server)
	if !validDomain(host) {
		return "", errdefs.InvalidArgument("login: invalid registry %q", server)
	}
	if username == "" || password == "" {
		return "", errdefs.InvalidArgument("login: a username and a password are needed")
	}
	ref := Reference{Domain: host, Path: "library/login"}
	repo, base, err := s.repoAndTransport(ref, opts)
	if err != nil {
		return "", err
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: username, Password: password})
	if err := checkLogin(ctx, repo.Registry, auth, base); err != nil {
		return "", registryLoginError(ref, err)
	}
	cf, err := config.Load(config.Dir())
	if err != nil {
		return "", fmt.Errorf("read docker config: %w", err)
	}
	key := authKey(host)
	if err := cf.GetCredentialsStore(key).Store(types.AuthConfig{Username: username, Password: password, ServerAddress: key}); err != nil {
		return "", fmt.Errorf("store credentials for %s: %w", host, err)
	}
	if err := cf.Save(); err != nil {
		return "", fmt.Errorf("write %s: %w", cf.Filename, err)
	}
	return host, nil
}

// checkLogin authenticates (a token exchange for bearer registries) and
// reads /v2/, which answers 200 only to an accepted login.
func checkLogin(ctx context.Context, reg name.Registry, auth authn.Authenticator, base http.RoundTripper) error {
	rt, err := transport.NewWithContext(ctx, reg, auth, base, nil)
	if err != nil {
		return err
	}
	url := fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return transport.CheckError(resp, http.StatusOK)
}

func registryLoginError(ref Reference, err error) error {
	var terr *transport.Error
	if errors.As(err, &terr) && (terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden) {
		return errdefs.InvalidArgument("login to %s: unauthorized: wrong username or password", ref.Domain)
	}
	return registryError(ref, err)
}

// Logout removes server's credentials from the docker config.
func (s *Store) Logout(server string) (string, error) {
	host := serverHost(server)
	cf, err := config.Load(config.Dir())
	if err != nil {
		return "", fmt.Errorf("read docker config: %w", err)
	}
	key := authKey(host)
	if _, ok := cf.AuthConfigs[key]; !ok && cf.CredentialsStore == "" && cf.CredentialHelpers[key] == "" {
		return host, errdefs.NotFound("not logged in to %s", host)
	}
	if err := cf.GetCredentialsStore(key).Erase(key); err != nil {
		return host, fmt.Errorf("remove credentials for %s: %w", host, err)
	}
	if err := cf.Save(); err != nil {
		return host, fmt.Errorf("write %s: %w", cf.Filename, err)
	}
	return host, nil
}
