package images

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// proxy sits between tincan and the registry on another loopback port to
// cut or corrupt blob downloads and to record range requests.
type proxy struct {
	// Host is "127.0.0.1:PORT".
	Host     string
	upstream string

	mu      sync.Mutex
	stall   map[string]int64 // digest -> bytes sent before the response stalls
	corrupt map[string]bool  // digest -> flip a byte in the middle
	ranges  []string         // "digest range -> status" of blob requests with a Range
}

func startProxy(t *testing.T, upstream string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{Host: l.Addr().String(), upstream: upstream, stall: map[string]int64{}, corrupt: map[string]bool{}}
	srv := &http.Server{Handler: p}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		srv.Close()
	})
	return p
}

func (p *proxy) set(fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn()
}

func (p *proxy) rangesSeen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.ranges...)
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req, err := http.NewRequestWithContext(r.Context(), r.Method, "http://"+p.upstream+r.URL.RequestURI(), r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	req.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	digest := ""
	if i := strings.Index(r.URL.Path, "/blobs/"); i >= 0 && r.Method == http.MethodGet {
		digest = r.URL.Path[i+len("/blobs/"):]
	}
	p.mu.Lock()
	stall, cut := p.stall[digest]
	corrupt := p.corrupt[digest]
	if rg := r.Header.Get("Range"); digest != "" && rg != "" {
		p.ranges = append(p.ranges, fmt.Sprintf("%s %s -> %d", digest, rg, resp.StatusCode))
	}
	p.mu.Unlock()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	switch {
	case cut:
		io.CopyN(w, resp.Body, stall)
		w.(http.Flusher).Flush()
		<-r.Context().Done() // until the client goes away
	case corrupt:
		body, _ := io.ReadAll(resp.Body)
		if len(body) > 0 {
			body[len(body)/2] ^= 0xff
		}
		w.Write(body)
	default:
		io.Copy(w, resp.Body)
	}
}
