package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// IdleTimeout is how long a registry connection may stay silent, while
// anything is being read from it, before that read is an error. A registry
// that sends its headers and then holds the connection open, or lies about
// a Content-Length, must not hold a check for longer than this; the whole
// run is bounded by the caller's context (check --timeout). A variable so
// that tests can shorten it.
var IdleTimeout = 30 * time.Second

// IdleError is a registry connection that sent nothing for IdleTimeout.
type IdleError struct {
	Addr  string
	After time.Duration
}

func (e *IdleError) Error() string {
	return fmt.Sprintf("%s sent nothing for %s", e.Addr, e.After)
}

// Timeout makes net/http and callers treat it as the timeout it is.
func (e *IdleError) Timeout() bool { return true }

// idleConn fails a read that waits more than timeout for a byte. The deadline
// is set at each read and pushed back at each write: net/http keeps a read
// pending on a pooled connection, and a request written on it starts a new
// wait for the answer.
type idleConn struct {
	net.Conn
	timeout time.Duration
	addr    string
	// onIdle, if set, is told when a read timed out.
	onIdle func(*IdleError)
}

func (c *idleConn) Read(p []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	n, err := c.Conn.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		idle := &IdleError{Addr: c.addr, After: c.timeout}
		if c.onIdle != nil {
			c.onIdle(idle)
		}
		return n, idle
	}
	return n, err
}

func (c *idleConn) Write(p []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// dialFunc is http.Transport's DialContext.
type dialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// idleDialer wraps every connection dial makes in an idleConn.
func idleDialer(dial dialFunc, onIdle func(*IdleError)) dialFunc {
	timeout := IdleTimeout
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &idleConn{Conn: conn, timeout: timeout, addr: addr, onIdle: onIdle}, nil
	}
}

// idleLog remembers the connections that went silent, so that an error of
// containers/image (which sees only a closed connection, see relay) can say
// why.
type idleLog struct {
	mu     sync.Mutex
	events []idleEvent
}

type idleEvent struct {
	at  time.Time
	err *IdleError
}

func (l *idleLog) add(err *IdleError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, idleEvent{at: time.Now(), err: err})
}

// since is the first connection that went silent after start, or nil.
func (l *idleLog) since(start time.Time) *IdleError {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.events {
		if !e.at.Before(start) {
			return e.err
		}
	}
	return nil
}

// explain adds to err, returned by a call that started at start, the
// connection that went silent meanwhile, if any; nil stays nil.
func (l *idleLog) explain(err error, start time.Time) error {
	if err == nil || l == nil {
		return err
	}
	if errors.As(err, new(*IdleError)) {
		return err
	}
	if idle := l.since(start); idle != nil {
		return fmt.Errorf("%w (%w)", err, idle)
	}
	return err
}

// Retries of our own client (go-containerregistry's sleeps between retries
// do not watch the request's context, so its retries are turned off, see
// puller): a GET or HEAD answered 408, 429 or 5xx, or whose connection was
// reset before an answer, is tried again up to maxAttempts times, after
// Retry-After (at most maxRetryDelay) or an exponential delay, never past
// the request's context.
const (
	maxAttempts   = 3
	firstDelay    = time.Second
	maxRetryDelay = time.Minute
)

var retriedStatus = map[int]bool{
	http.StatusRequestTimeout: true, http.StatusTooManyRequests: true,
	http.StatusInternalServerError: true, http.StatusBadGateway: true,
	http.StatusServiceUnavailable: true, http.StatusGatewayTimeout: true,
}

type retrying struct{ next http.RoundTripper }

func (rt retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return rt.next.RoundTrip(req)
	}
	delay := firstDelay
	for attempt := 1; ; attempt++ {
		resp, err := rt.next.RoundTrip(req)
		retry := false
		switch {
		case err != nil:
			retry = errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF)
		case retriedStatus[resp.StatusCode]:
			retry = true
		}
		if !retry || attempt == maxAttempts {
			return resp, err
		}
		wait := delay
		if resp != nil {
			if after, ok := retryAfter(resp); ok {
				wait = min(after, maxRetryDelay)
			}
			_ = resp.Body.Close()
		}
		t := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			t.Stop()
			return nil, req.Context().Err()
		case <-t.C:
		}
		delay *= 3
	}
}

// retryAfter is the delay a Retry-After header asks for, in seconds or as a
// date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if at, err := http.ParseTime(v); err == nil {
		return max(time.Until(at), 0), true
	}
	return 0, false
}

// Limits on what our client reads of one response, set per request through
// its context (withBodyLimit): go-containerregistry's own limit is 100 MiB.
type bodyLimitKey struct{}

// withBodyLimit makes every response read under ctx fail past limit bytes,
// before they are held: counted after any Content-Encoding is undone, so a
// compressed bomb stops at the same place.
func withBodyLimit(ctx context.Context, limit int64) context.Context {
	return context.WithValue(ctx, bodyLimitKey{}, limit)
}

// TooLargeError is a response larger than what it may be.
type TooLargeError struct {
	URL   string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s: the response is larger than the %d bytes allowed", e.URL, e.Limit)
}

type limitBodies struct{ next http.RoundTripper }

func (l limitBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(req)
	limit, ok := req.Context().Value(bodyLimitKey{}).(int64)
	if err != nil || !ok {
		return resp, err
	}
	if resp.ContentLength > limit {
		_ = resp.Body.Close()
		return nil, &TooLargeError{URL: req.URL.Redacted(), Limit: limit}
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: limit, err: &TooLargeError{URL: req.URL.Redacted(), Limit: limit}}
	return resp, nil
}

// limitedBody fails once more than its limit was read.
type limitedBody struct {
	io.ReadCloser
	left int64
	err  error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left < 0 {
		return 0, b.err
	}
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	if b.left < 0 {
		return 0, b.err
	}
	return n, err
}
