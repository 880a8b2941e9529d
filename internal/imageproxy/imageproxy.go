// Package imageproxy is a client of skopeo's image proxy
// (`skopeo experimental-image-proxy`, skopeo-experimental-image-proxy(1)),
// doing what containers-image-proxy-rs does for bootc: it starts the proxy
// with one end of a SOCK_SEQPACKET socket pair, sends one JSON request per
// packet, reads one JSON reply per packet, and receives bulk data (a
// manifest, a config) as the read end of a pipe passed with SCM_RIGHTS,
// finished with FinishPipe.
//
// It exists so that tests can drive the proxy as bootc does: OpenImage is
// where the proxy evaluates policy.json, so a refused image is an error
// reply to OpenImage. The package uses the standard library and x/sys only,
// as a client that would live in another project would.
package imageproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ProtocolMajor is the protocol version prefix this client speaks; the proxy
// reports its version from Initialize.
const ProtocolMajor = "0.2."

// maxMessage is the proxy's packet limit (json-proxy's maxMsgSize): replies
// are never larger, bulk data goes through pipes.
const maxMessage = 32 * 1024

// MaxPipeData bounds what the client reads from one pipe: far above any
// manifest or config a test image has (containers/image itself caps
// manifests at 4 MiB), so that a misbehaving proxy cannot make it read
// without end.
const MaxPipeData = 16 << 20

// shutdownGrace is how long Close waits for the proxy to exit on its own
// after Shutdown before it kills it.
const shutdownGrace = 10 * time.Second

// Command is the proxy command for the skopeo binary at skopeo, serving on
// fd 3 (the socket Start passes as the first of cmd.ExtraFiles), with args
// (global options such as --policy, --registries.d, --tls-verify=false)
// after the subcommand, where skopeo accepts both kinds.
func Command(skopeo string, args ...string) *exec.Cmd {
	return exec.Command(skopeo, append([]string{"experimental-image-proxy", "--sockfd", "3"}, args...)...)
}

// Client is a running proxy and the client's end of its socket. Its methods
// may be called from several goroutines; calls are serialized, as the
// protocol is one reply per request, in order.
type Client struct {
	mu      sync.Mutex
	conn    *net.UnixConn
	cmd     *exec.Cmd
	stderr  *lockedBuffer
	done    chan struct{} // closed when cmd has exited
	waitErr error         // cmd.Wait's result, valid once done is closed
	closed  bool

	// Version is the protocol version Initialize returned.
	Version string
}

// RemoteError is a reply with success false: the proxy ran the method and
// it failed (an image refused by policy is one).
type RemoteError struct {
	Method  string
	Code    string // error_code: "EPIPE", "retryable", "other" (protocol 0.2.8)
	Message string // error
}

func (e *RemoteError) Error() string {
	return fmt.Sprintf("image proxy %s: %s", e.Method, e.Message)
}

// Start starts cmd (from Command, with Env, Dir etc. set by the caller) with
// the proxy's end of a new socket pair as its fd 3, then calls Initialize.
// cmd.Stderr, if nil, is captured (Stderr returns it). The context bounds
// Initialize only; the process lives until Close.
func Start(ctx context.Context, cmd *exec.Cmd) (*Client, error) {
	if len(cmd.ExtraFiles) != 0 {
		return nil, errors.New("imageproxy: cmd.ExtraFiles must be empty: the socket is fd 3")
	}
	// SOCK_CLOEXEC: only the child's dup (ExtraFiles) must survive exec, so
	// that the proxy's exit is seen as the end of the socket.
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("imageproxy: socketpair: %w", err)
	}
	ours := os.NewFile(uintptr(fds[0]), "imageproxy-client")
	theirs := os.NewFile(uintptr(fds[1]), "imageproxy-server")
	defer theirs.Close()
	fconn, err := net.FileConn(ours)
	ours.Close() // FileConn dups it
	if err != nil {
		return nil, fmt.Errorf("imageproxy: %w", err)
	}
	conn, ok := fconn.(*net.UnixConn)
	if !ok {
		fconn.Close()
		return nil, fmt.Errorf("imageproxy: socket is a %T, not a *net.UnixConn", fconn)
	}
	c := &Client{conn: conn, cmd: cmd, done: make(chan struct{})}
	if cmd.Stderr == nil {
		c.stderr = &lockedBuffer{}
		cmd.Stderr = c.stderr
	}
	cmd.ExtraFiles = []*os.File{theirs}
	if cmd.WaitDelay == 0 {
		// A plugin the proxy started may outlive it holding its stderr.
		cmd.WaitDelay = 5 * time.Second
	}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("imageproxy: starting %s: %w", cmd.Path, err)
	}
	go func() {
		c.waitErr = cmd.Wait()
		close(c.done)
	}()
	// Our copy of the proxy's end must go before the first read, or a proxy
	// that dies would leave the socket open and a read would never end.
	theirs.Close()

	v, err := c.call(ctx, "Initialize", nil)
	if err != nil {
		c.kill()
		return nil, err
	}
	version, ok := v.value.(string)
	if !ok || !strings.HasPrefix(version, ProtocolMajor) {
		c.kill()
		return nil, fmt.Errorf("imageproxy: Initialize returned protocol version %v, want %s*", v.value, ProtocolMajor)
	}
	c.Version = version
	return c, nil
}

// ImageID is an open image's handle; 0 is OpenImageOptional's "not found".
type ImageID uint64

// OpenImage opens ref ("docker://HOST/REPO:TAG"). This is where the proxy
// evaluates the policy: for an index, the top level, then the instance it
// chooses for this machine's platform; it refuses only when both fail.
func (c *Client) OpenImage(ctx context.Context, ref string) (ImageID, error) {
	return c.openImage(ctx, "OpenImage", ref)
}

// OpenImageOptional is OpenImage, but an image that does not exist is
// ImageID 0 and no error.
func (c *Client) OpenImageOptional(ctx context.Context, ref string) (ImageID, error) {
	return c.openImage(ctx, "OpenImageOptional", ref)
}

func (c *Client) openImage(ctx context.Context, method, ref string) (ImageID, error) {
	r, err := c.call(ctx, method, []any{ref})
	if err != nil {
		return 0, err
	}
	id, err := uintValue(method, r.value)
	return ImageID(id), err
}

// GetManifest returns the manifest of the image the proxy opened, converted
// to OCI, and the digest of that manifest as it was read: for an index, the
// chosen instance's (json-proxy computes it from the instance, whatever
// skopeo-experimental-image-proxy(1) says of manifest lists).
func (c *Client) GetManifest(ctx context.Context, id ImageID) (digest string, manifest []byte, err error) {
	r, data, err := c.callWithPipe(ctx, "GetManifest", uint64(id))
	if err != nil {
		return "", nil, err
	}
	digest, ok := r.value.(string)
	if !ok {
		return "", nil, fmt.Errorf("imageproxy: GetManifest returned %T, want a digest string", r.value)
	}
	return digest, data, nil
}

// GetFullConfig returns the image's OCI config.
func (c *Client) GetFullConfig(ctx context.Context, id ImageID) ([]byte, error) {
	_, data, err := c.callWithPipe(ctx, "GetFullConfig", uint64(id))
	return data, err
}

// CloseImage closes an open image.
func (c *Client) CloseImage(ctx context.Context, id ImageID) error {
	_, err := c.callNoFD(ctx, "CloseImage", []any{uint64(id)})
	return err
}

// Stderr is what the proxy wrote to its standard error so far (when Start
// captured it).
func (c *Client) Stderr() string {
	if c.stderr == nil {
		return ""
	}
	return c.stderr.String()
}

// Close asks the proxy to shut down, closes the socket and waits for the
// process, killing it if it does not exit within a grace period. It returns
// the process's exit error, if any.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	// Shutdown has no reply: the proxy stops reading and exits.
	_ = c.send("Shutdown", []any{})
	c.conn.Close()
	select {
	case <-c.done:
	case <-time.After(shutdownGrace):
		_ = c.cmd.Process.Kill()
		<-c.done
		return fmt.Errorf("imageproxy: the proxy did not exit within %s of Shutdown: killed", shutdownGrace)
	}
	return c.waitErr
}

func (c *Client) kill() {
	c.conn.Close()
	_ = c.cmd.Process.Kill()
	<-c.done
}

// reply is the proxy's reply packet (json-proxy's reply), with the fds that
// came with it.
type reply struct {
	value  any
	pipeID uint32
	fds    []*os.File
}

type wireRequest struct {
	Method string `json:"method"`
	Args   []any  `json:"args"`
}

type wireReply struct {
	Success   bool   `json:"success"`
	Value     any    `json:"value"`
	PipeID    uint32 `json:"pipeid"`
	ErrorCode string `json:"error_code"`
	Error     string `json:"error"`
}

// callNoFD is a call whose reply must carry no pipe.
func (c *Client) callNoFD(ctx context.Context, method string, args []any) (any, error) {
	r, err := c.call(ctx, method, args)
	if err != nil {
		return nil, err
	}
	return r.value, nil
}

// callWithPipe is a call whose reply passes one pipe: it reads the pipe to
// its end while FinishPipe waits for the proxy's writer (the proxy closes
// its end only in FinishPipe), and returns the data once both are done.
func (c *Client) callWithPipe(ctx context.Context, method string, id uint64) (reply, []byte, error) {
	r, err := c.callFDs(ctx, method, []any{id}, 1)
	if err != nil {
		return reply{}, nil, err
	}
	pipe := r.fds[0]
	type result struct {
		data []byte
		err  error
	}
	read := make(chan result, 1)
	go func() {
		defer pipe.Close()
		data, err := io.ReadAll(io.LimitReader(pipe, MaxPipeData+1))
		if err == nil && len(data) > MaxPipeData {
			// Closing our end makes the proxy's writer fail with EPIPE,
			// which FinishPipe then reports, so neither side hangs.
			err = fmt.Errorf("imageproxy: %s sent more than %d bytes", method, MaxPipeData)
		}
		read <- result{data, err}
	}()
	_, finishErr := c.callNoFD(ctx, "FinishPipe", []any{r.pipeID})
	var res result
	select {
	case res = <-read:
	case <-ctx.Done():
		pipe.Close()
		res = <-read
		if res.err == nil {
			res.err = ctx.Err()
		}
	}
	if res.err != nil {
		return reply{}, nil, res.err
	}
	if finishErr != nil {
		return reply{}, nil, finishErr
	}
	return r, res.data, nil
}

// call is a call whose reply must carry no fds.
func (c *Client) call(ctx context.Context, method string, args []any) (reply, error) {
	return c.callFDs(ctx, method, args, 0)
}

// callFDs sends one request and reads its reply, which must carry exactly
// wantFDs file descriptors when it succeeds; the caller owns them.
func (c *Client) callFDs(ctx context.Context, method string, args []any, wantFDs int) (reply, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return reply{}, errors.New("imageproxy: client is closed")
	}
	// The proxy reads until a reply is sent; a deadline on the socket is what
	// bounds a call, as the context cannot interrupt a read by itself.
	deadline, _ := ctx.Deadline()
	if err := c.conn.SetDeadline(deadline); err != nil {
		return reply{}, fmt.Errorf("imageproxy: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = c.conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.send(method, args); err != nil {
		return reply{}, c.transportError(ctx, method, err)
	}
	buf := make([]byte, maxMessage)
	oob := make([]byte, unix.CmsgSpace(2*4)) // data and error pipes at most (GetRawBlob)
	n, oobn, flags, _, err := c.conn.ReadMsgUnix(buf, oob)
	if err != nil {
		return reply{}, c.transportError(ctx, method, err)
	}
	fds, fdErr := parseRights(oob[:oobn])
	r := reply{fds: fds}
	closeFDs := func() {
		for _, f := range r.fds {
			f.Close()
		}
	}
	if n == 0 {
		closeFDs()
		return reply{}, c.transportError(ctx, method, io.EOF)
	}
	if flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 {
		closeFDs()
		return reply{}, fmt.Errorf("imageproxy: %s: reply truncated (flags %#x)", method, flags)
	}
	if fdErr != nil {
		closeFDs()
		return reply{}, fmt.Errorf("imageproxy: %s: %w", method, fdErr)
	}
	var w wireReply
	if err := json.Unmarshal(buf[:n], &w); err != nil {
		closeFDs()
		return reply{}, fmt.Errorf("imageproxy: %s: reply %q: %w", method, buf[:n], err)
	}
	if !w.Success {
		closeFDs()
		return reply{}, &RemoteError{Method: method, Code: w.ErrorCode, Message: w.Error}
	}
	if len(r.fds) != wantFDs || (wantFDs > 0 && w.PipeID == 0) {
		closeFDs()
		return reply{}, fmt.Errorf("imageproxy: %s: reply with %d fds and pipeid %d, want %d fds", method, len(r.fds), w.PipeID, wantFDs)
	}
	r.value, r.pipeID = w.Value, w.PipeID
	return r, nil
}

// send writes one request packet. The caller holds c.mu.
func (c *Client) send(method string, args []any) error {
	if args == nil {
		args = []any{} // the proxy's clients send [] for no arguments
	}
	data, err := json.Marshal(wireRequest{Method: method, Args: args})
	if err != nil {
		return err
	}
	if len(data) > maxMessage {
		return fmt.Errorf("request of %d bytes, above the proxy's %d", len(data), maxMessage)
	}
	n, err := c.conn.Write(data)
	if err == nil && n != len(data) {
		err = io.ErrShortWrite
	}
	return err
}

// transportError is a failure to talk to the proxy; when the proxy has
// exited, it says so with the end of its standard error.
func (c *Client) transportError(ctx context.Context, method string, err error) error {
	switch _, hasDeadline := ctx.Deadline(); {
	case ctx.Err() != nil:
		err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	case hasDeadline && errors.Is(err, os.ErrDeadlineExceeded):
		// The socket's deadline is the context's, and may fire first.
		err = fmt.Errorf("%w (%w)", context.DeadlineExceeded, err)
	}
	select {
	case <-c.done:
		return fmt.Errorf("imageproxy: %s: %w; the proxy exited (%v): %s", method, err, c.waitErr, tail(c.Stderr()))
	case <-time.After(100 * time.Millisecond):
		return fmt.Errorf("imageproxy: %s: %w", method, err)
	}
}

// parseRights returns the fds passed in a control message buffer.
func parseRights(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	var firstErr error
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, fd := range fds {
			// Non-blocking, so that os.NewFile puts it in the runtime poller
			// and a Close interrupts a read that a stuck proxy would never end.
			if err := unix.SetNonblock(fd, true); err != nil && firstErr == nil {
				firstErr = err
			}
			files = append(files, os.NewFile(uintptr(fd), "imageproxy-pipe"))
		}
	}
	return files, firstErr
}

// uintValue is a reply value that must be a non-negative integer (JSON
// numbers decode as float64; the proxy keeps them within 2^53).
func uintValue(method string, v any) (uint64, error) {
	f, ok := v.(float64)
	if !ok || f < 0 || f > 1<<53 || f != math.Trunc(f) {
		return 0, fmt.Errorf("imageproxy: %s returned %v (%T), want an unsigned integer", method, v, v)
	}
	return uint64(f), nil
}

func tail(s string) string {
	const keep = 4096
	if len(s) > keep {
		return "..." + s[len(s)-keep:]
	}
	return s
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
