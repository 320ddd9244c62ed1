package image

import (
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tincan/tincan/errdefs"
)

func TestRegistriesHTTPPolicy(t *testing.T) {
	r := &Registries{Insecure: []string{"reg.example:5000", "10.0.0.0/8", "plain.example"}}
	for host, want := range map[string]bool{
		"localhost": true, "localhost:5000": true, "127.0.0.1:5000": true, "127.9.9.9": true, "[::1]:5000": true,
		"app.localhost:80": true, "reg.example:5000": true, "reg.example:5001": false, "10.1.2.3:5000": true,
		"11.1.2.3": false, "plain.example:443": true, "docker.io": false, "192.168.1.1:5000": false,
	} {
		if got := r.AllowsHTTP(host); got != want {
			t.Errorf("AllowsHTTP(%s) = %v, want %v", host, got, want)
		}
	}
	if r.SkipsTLSVerify("localhost:5000") || !r.SkipsTLSVerify("10.0.0.1") {
		t.Error("TLS verification is skipped only for the insecure list")
	}
}

func TestRegistriesFile(t *testing.T) {
	dir := t.TempDir()
	first, second := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	os.WriteFile(second, []byte(`{"default": "reg.example", "search": ["one.example", "two.example:5000"]}`), 0o644)
	r, err := loadRegistries(first, second)
	if err != nil || r.Default != "reg.example" || len(r.Search) != 2 {
		t.Fatalf("loadRegistries: %+v, %v", r, err)
	}
	cands, err := r.Candidates("app:v1")
	if err != nil || len(cands) != 2 || cands[0].String() != "one.example/app:v1" || cands[1].String() != "two.example:5000/app:v1" {
		t.Fatalf("candidates: %v, %v", cands, err)
	}
	if cands, _ := r.Candidates("quay.io/x/y"); len(cands) != 1 || cands[0].Domain != "quay.io" {
		t.Fatalf("a qualified name has one candidate: %v", cands)
	}
	if r, err := loadRegistries(first); err != nil || r.Default != DockerHub {
		t.Fatalf("no file: %+v, %v", r, err)
	}
	os.WriteFile(first, []byte(`{"default": "bad host"}`), 0o644)
	if _, err := loadRegistries(first, second); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("a bad default: %v", err)
	}
	os.WriteFile(first, []byte(`{`), 0o644)
	if _, err := loadRegistries(first); !errdefs.IsInvalidArgument(err) {
		t.Fatalf("bad JSON: %v", err)
	}
}

type stubTransport struct{ calls int }

func (s *stubTransport) RoundTrip(*http.Request) (*http.Response, error) {
	s.calls++
	return nil, errors.New("stub")
}

// TestHTTPPolicyTransport: plain http to a registry that is neither
// loopback nor insecure is refused before anything is sent, unless
// --tls-verify=false; the TLS check is skipped only when allowed.
func TestHTTPPolicyTransport(t *testing.T) {
	s := &Store{regFile: []string{}}
	for _, tc := range []struct {
		domain     string
		skip       bool
		allowed    bool
		skipVerify bool
	}{
		{"registry.example:5000", false, false, false},
		{"registry.example:5000", true, true, true},
		{"127.0.0.1:5000", false, true, false},
		{"localhost:5000", false, true, false},
	} {
		_, rt, err := s.repoAndTransport(Reference{Domain: tc.domain, Path: "x"}, RegistryOptions{SkipTLSVerify: tc.skip})
		if err != nil {
			t.Fatal(err)
		}
		p := rt.(*httpPolicy)
		tr := p.inner.(*http.Transport)
		if got := tr.TLSClientConfig != nil && tr.TLSClientConfig.InsecureSkipVerify; got != tc.skipVerify {
			t.Errorf("%s skip=%v: InsecureSkipVerify %v", tc.domain, tc.skip, got)
		}
		stub := &stubTransport{}
		p.inner = stub
		req, _ := http.NewRequest(http.MethodGet, "http://"+tc.domain+"/v2/", nil)
		_, err = p.RoundTrip(req)
		refused := err != nil && strings.Contains(err.Error(), "plain http")
		if refused == tc.allowed || (stub.calls == 1) != tc.allowed {
			t.Errorf("%s skip=%v: refused %v (%v), sent %d", tc.domain, tc.skip, refused, err, stub.calls)
		}
		req, _ = http.NewRequest(http.MethodGet, "https://"+tc.domain+"/v2/", nil)
		if p.RoundTrip(req); stub.calls == 0 {
			t.Errorf("%s: https was refused", tc.domain)
		}
	}
}
