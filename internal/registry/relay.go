package registry

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.podman.io/image/v5/types"
)

// containers/image's docker client makes its own http.Transport (its
// tlsclientconfig.NewTransport) and takes no dialer nor RoundTripper; the
// one hook it has into its connections is the proxy (SystemContext.DockerProxy).
// So that its registry connections get the same idle timeout as ours, each
// Image runs a SOCKS5 relay on 127.0.0.1 and names it as the proxy: Go's
// transport then opens every connection (HTTP and HTTPS alike) through the
// relay, which dials the registry itself and copies bytes both ways through
// an idleConn. TLS stays end to end between containers/image and the
// registry (certs.d, --tls-verify, client certificates unchanged), and
// nothing of the HTTP exchange is seen or changed. A proxy the environment
// names (HTTPS_PROXY, ...) is still used where it applies, as containers/image
// would, and that connection is then not watched.

// relay is one Image's SOCKS5 relay.
type relay struct {
	ln   net.Listener
	idle *idleLog
	wg   sync.WaitGroup
	// ctx ends the dials in progress when the relay closes.
	ctx    context.Context //nolint:containedctx // the relay's lifetime, not a request's
	cancel context.CancelFunc

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	done  bool
}

func startRelay() (*relay, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &relay{ln: ln, idle: &idleLog{}, conns: map[net.Conn]struct{}{}, ctx: ctx, cancel: cancel}
	r.wg.Go(r.serve)
	return r, nil
}

// install makes sys's docker client connect through r.
func (r *relay) install(sys *types.SystemContext) {
	proxyURL := &url.URL{Scheme: "socks5", Host: r.ln.Addr().String()}
	envProxy := sys.DockerProxy
	sys.DockerProxy = func(reqURL *url.URL) (*url.URL, error) {
		if envProxy != nil {
			return envProxy(reqURL)
		}
		if p, err := http.ProxyFromEnvironment(&http.Request{URL: reqURL}); p != nil || err != nil {
			return p, err
		}
		return proxyURL, nil
	}
}

func (r *relay) close() {
	r.cancel()
	_ = r.ln.Close()
	r.mu.Lock()
	r.done = true
	for c := range r.conns {
		_ = c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *relay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done {
		_ = c.Close()
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *relay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	_ = c.Close()
}

func (r *relay) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		if !r.track(c) {
			continue
		}
		r.wg.Go(func() {
			defer r.untrack(c)
			r.handle(c)
		})
	}
}

// SOCKS5 (RFC 1928), the part Go's client uses: no authentication, CONNECT.
const (
	socksVersion      = 5
	socksNoAuth       = 0
	socksConnect      = 1
	socksIPv4         = 1
	socksDomain       = 3
	socksIPv6         = 4
	socksSucceeded    = 0
	socksFailure      = 1
	socksNetUnreach   = 3
	socksHostUnreach  = 4
	socksRefused      = 5
	socksCmdNotSupp   = 7
	socksHandshakeMax = 10 * time.Second
)

func (r *relay) handle(client net.Conn) {
	_ = client.SetDeadline(time.Now().Add(socksHandshakeMax))
	target, ok := socksHandshake(client)
	if !ok {
		return
	}
	dialer := net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	ctx, cancel := context.WithTimeout(r.ctx, socksHandshakeMax+30*time.Second)
	upstream, err := dialer.DialContext(ctx, "tcp", target)
	cancel()
	if err != nil {
		_, _ = client.Write(socksReply(dialFailure(err)))
		return
	}
	if !r.track(upstream) {
		return
	}
	defer r.untrack(upstream)
	if _, err := client.Write(socksReply(socksSucceeded)); err != nil {
		return
	}
	_ = client.SetDeadline(time.Time{})
	watched := &idleConn{Conn: upstream, timeout: IdleTimeout, addr: target, onIdle: r.idle.add}
	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(watched, client)
		// The client is done sending; the answer may still come.
		if tcp, ok := upstream.(*net.TCPConn); ok {
			_ = tcp.CloseWrite()
		}
	})
	_, _ = io.Copy(client, watched)
	// The registry closed, or went silent: the client sees the connection
	// close (containers/image's error is then explained by r.idle).
	_ = client.Close()
	_ = upstream.Close()
	wg.Wait()
}

// socksHandshake reads the greeting and the CONNECT request and returns the
// target host:port.
func socksHandshake(c net.Conn) (string, bool) {
	var head [2]byte
	if _, err := io.ReadFull(c, head[:]); err != nil || head[0] != socksVersion {
		return "", false
	}
	methods := make([]byte, head[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return "", false
	}
	hasNoAuth := false
	for _, m := range methods {
		hasNoAuth = hasNoAuth || m == socksNoAuth
	}
	if !hasNoAuth {
		_, _ = c.Write([]byte{socksVersion, 0xff})
		return "", false
	}
	if _, err := c.Write([]byte{socksVersion, socksNoAuth}); err != nil {
		return "", false
	}
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || req[0] != socksVersion {
		return "", false
	}
	if req[1] != socksConnect {
		_, _ = c.Write(socksReply(socksCmdNotSupp))
		return "", false
	}
	var host string
	switch req[3] {
	case socksIPv4, socksIPv6:
		ip := make(net.IP, 4)
		if req[3] == socksIPv6 {
			ip = make(net.IP, 16)
		}
		if _, err := io.ReadFull(c, ip); err != nil {
			return "", false
		}
		host = ip.String()
	case socksDomain:
		var n [1]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return "", false
		}
		name := make([]byte, n[0])
		if _, err := io.ReadFull(c, name); err != nil {
			return "", false
		}
		host = string(name)
	default:
		_, _ = c.Write(socksReply(socksFailure))
		return "", false
	}
	var port [2]byte
	if _, err := io.ReadFull(c, port[:]); err != nil {
		return "", false
	}
	return net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))), true
}

func socksReply(code byte) []byte {
	return []byte{socksVersion, code, 0, socksIPv4, 0, 0, 0, 0, 0, 0}
}

// dialFailure is the SOCKS reply for a failed dial; Go's client turns it
// into its message (e.g. "connection refused").
func dialFailure(err error) byte {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return socksRefused
	case errors.Is(err, syscall.ENETUNREACH):
		return socksNetUnreach
	case errors.Is(err, syscall.EHOSTUNREACH):
		return socksHostUnreach
	default:
		return socksFailure
	}
}
