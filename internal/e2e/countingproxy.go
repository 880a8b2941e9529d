package e2e

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// CountingProxy passes every request through to a registry and records
// what clients cost it: TCP connections accepted (including ones that never
// carry a request, such as a TLS attempt on this plain-HTTP port) and every
// request with the connection it came on.
type CountingProxy struct {
	// Addr is the proxy's address, 127.0.0.1:PORT, plain HTTP.
	Addr string

	mu          sync.Mutex
	connections int
	requests    []ProxiedRequest
	hold        func(ProxiedRequest)
}

// Hold makes the proxy call hold with every request before passing it on,
// so that a test can keep a request waiting until something has happened;
// nil passes requests on at once.
func (p *CountingProxy) Hold(hold func(ProxiedRequest)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hold = hold
}

// ProxiedRequest is one request that went through a CountingProxy.
type ProxiedRequest struct {
	Conn      string // the client's address: one per connection
	Method    string
	Path      string
	UserAgent string
}

// IsPing says whether r is the API version check (GET /v2/) every registry
// client starts with.
func (r ProxiedRequest) IsPing() bool { return r.Path == "/v2/" || r.Path == "/v2" }

// StartCountingProxy serves a CountingProxy for the registry at backendAddr
// on 127.0.0.1; t.Cleanup stops it.
func StartCountingProxy(t testing.TB, backendAddr string) *CountingProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("e2e: counting proxy: %v", err)
	}
	p := &CountingProxy{Addr: l.Addr().String()}
	backend := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: backendAddr})
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := ProxiedRequest{Conn: r.RemoteAddr, Method: r.Method, Path: r.URL.Path, UserAgent: r.UserAgent()}
		p.mu.Lock()
		p.requests = append(p.requests, req)
		hold := p.hold
		p.mu.Unlock()
		if hold != nil {
			hold(req)
		}
		backend.ServeHTTP(w, r)
	})}
	srv.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			p.mu.Lock()
			p.connections++
			p.mu.Unlock()
		}
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

// Reset forgets what was recorded.
func (p *CountingProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.connections, p.requests = 0, nil
}

// Recorded returns the connections accepted and the requests, in order,
// since the start or the last Reset.
func (p *CountingProxy) Recorded() (connections int, requests []ProxiedRequest) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.connections, append([]ProxiedRequest(nil), p.requests...)
}
