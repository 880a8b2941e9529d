package protocol

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"time"
)

// pluginEnvNames are the only environment variables a plugin gets: a verdict
// must not depend on the caller's environment (proxies, credentials, SSL_CERT_FILE).
var pluginEnvNames = []string{"PATH", "LANG", "TZ", DebugEnv}

// pipeGrace is how long the host waits for a plugin's pipes to close after its
// process group is gone. Only a process that left the group (setsid) can hold
// them longer, and the run then fails.
const pipeGrace = time.Second

// invocation is what one plugin run produced.
type invocation struct {
	stdout   []byte // at most MaxStdoutBytes
	stderr   []byte // at most MaxStderrBytes; the rest was discarded
	exitCode int
}

// feed produces the request a plugin reads on stdin. The host calls it once,
// after the plugin has started, so that a caller still gathering its request
// (registry round trips) does so while the plugin process starts. An error
// ends the run: the plugin is killed and the error returned as it is.
type feed func(ctx context.Context) ([]byte, error)

// run runs `path command` with request on stdin, within the limits of the
// protocol. An error means the run produced no usable answer: it could not
// start, timed out, was killed by a signal, or wrote too much. Exit statuses
// are the caller's to judge.
func (h *Host) run(ctx context.Context, path, command string, request []byte) (*invocation, error) {
	if err := checkRequestSize(request); err != nil {
		return nil, err
	}
	return h.runFed(ctx, path, command, func(context.Context) ([]byte, error) { return request, nil })
}

func checkRequestSize(request []byte) error {
	if len(request) > MaxRequestBytes {
		return fmt.Errorf("request is %d bytes, more than the %d allowed", len(request), MaxRequestBytes)
	}
	return nil
}

// runFed is run with the request produced by feed while the plugin starts.
// The host's timeout counts from the moment the request is there: the time
// the caller spends gathering it is the caller's, bounded by ctx.
func (h *Host) runFed(ctx context.Context, path, command string, feed feed) (*invocation, error) {
	timeout := h.timeout()

	var files pipes
	defer files.closeAll()
	stdinR, stdinW, err := files.pipe()
	if err != nil {
		return nil, err
	}
	stdoutR, stdoutW, err := files.pipe()
	if err != nil {
		return nil, err
	}
	stderrR, stderrW, err := files.pipe()
	if err != nil {
		return nil, err
	}

	cmd := exec.Command(path, command)
	cmd.Env = pluginEnv()
	// *os.File streams: the child gets the descriptors themselves and os/exec
	// starts no copying goroutines that Wait would wait for; the host reads
	// and writes the other ends itself, under its own limits.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, stdoutW, stderrW
	startErr := startInGroup(cmd)
	// The child has its copies; closing ours lets the reads below see EOF
	// once the plugin (and anything it started) is gone.
	for _, f := range []*os.File{stdinR, stdoutW, stderrW} {
		_ = f.Close()
	}
	if startErr != nil {
		return nil, fmt.Errorf("starting %s: %w", path, startErr)
	}
	pid := cmd.Process.Pid

	var overflow atomic.Bool
	stdoutDone := make(chan []byte, 1)
	go func() {
		stdoutDone <- readCapped(stdoutR, MaxStdoutBytes, func() {
			overflow.Store(true)
			killGroup(pid) // out of bounds: stop it now, not at the timeout
		})
	}()
	stderrDone := make(chan []byte, 1)
	go func() { stderrDone <- readCapped(stderrR, MaxStderrBytes, nil) }()
	// fed says the request is there (nil) or why it never will be; written
	// says the writer is done with stdin, after which the run may return.
	fed := make(chan error, 1)
	written := make(chan struct{})
	go func() {
		defer close(written)
		request, err := feed(ctx)
		if err == nil {
			err = checkRequestSize(request)
		}
		fed <- err
		if err == nil {
			// A plugin may exit without reading its request (metadata): EPIPE is fine.
			_, _ = stdinW.Write(request)
		}
		_ = stdinW.Close()
	}()

	exited := make(chan error, 1)
	go func() { exited <- waitExited(pid) }()
	var (
		ended   error // why the host or the caller ended the run early
		feedErr error
		timer   <-chan time.Time // nil (never ready) until the request is there
		waiting = true
	)
	timeoutTimer := time.NewTimer(timeout)
	timeoutTimer.Stop()
	defer timeoutTimer.Stop()
	for waiting {
		select {
		case err = <-exited:
			waiting = false
		case feedErr = <-fed:
			fed = nil
			if feedErr != nil {
				killGroup(pid)
				err, waiting = <-exited, false
			} else {
				timeoutTimer.Reset(timeout)
				timer = timeoutTimer.C
			}
		case <-timer:
			ended = fmt.Errorf("timed out after %s", timeout)
			killGroup(pid)
			err, waiting = <-exited, false
		case <-ctx.Done():
			// Name what ended the run: the caller's context (a pull's
			// deadline or cancellation), whose limit the host does not know.
			ended = fmt.Errorf("canceled (%w)", ctx.Err())
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				ended = fmt.Errorf("timed out at the caller's deadline (%w)", ctx.Err())
			}
			killGroup(pid)
			err, waiting = <-exited, false
		}
	}
	// The leader has exited but is not reaped yet: kill what it left behind
	// in its group, so nothing outlives the call or holds the pipes open.
	killGroup(pid)
	stdout, stdoutHeld := collect(stdoutDone, stdoutR)
	stderr, _ := collect(stderrDone, stderrR)
	_ = stdinW.Close() // unblocks the writer if a stray process held stdin
	// The request is the caller's work: wait for it, so that nothing the
	// caller passed in is used after the call (feed returns once ctx ends).
	<-written
	if feedErr == nil && fed != nil {
		feedErr = <-fed
	}
	waitErr := cmd.Wait()

	switch {
	case feedErr != nil:
		return nil, feedErr
	case err != nil:
		return nil, fmt.Errorf("waiting for the plugin: %w", err)
	case ended != nil:
		return nil, fmt.Errorf("%w; its process group was killed", ended)
	case overflow.Load():
		return nil, fmt.Errorf("wrote more than %d bytes to stdout; its process group was killed", MaxStdoutBytes)
	case stdoutHeld:
		return nil, errors.New("a process it started outside its process group still held its stdout")
	}
	var exitErr *exec.ExitError
	if waitErr != nil && !errors.As(waitErr, &exitErr) {
		return nil, fmt.Errorf("waiting for the plugin: %w", waitErr)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		msg := fmt.Sprintf("killed by signal %s", ws.Signal())
		if line := lastLine(stderr); line != "" {
			msg += "; stderr: " + line
		}
		return nil, errors.New(msg)
	}
	return &invocation{stdout: stdout, stderr: stderr, exitCode: cmd.ProcessState.ExitCode()}, nil
}

// collect waits for a reader goroutine; if the pipe is still held open after
// pipeGrace, it closes the read end to stop the goroutine and reports held.
func collect(done chan []byte, r *os.File) (data []byte, held bool) {
	select {
	case data = <-done:
		return data, false
	case <-time.After(pipeGrace):
		_ = r.Close()
		return <-done, true
	}
}

// readCapped reads r to EOF and keeps at most limit bytes. Past the limit it
// calls onOverflow once (if not nil) and discards the rest, still draining so
// that the writer never blocks on a full pipe.
func readCapped(r io.Reader, limit int, onOverflow func()) []byte {
	buf := make([]byte, 0, 4096)
	chunk := make([]byte, 32<<10)
	over := false
	for {
		n, err := r.Read(chunk)
		if n > 0 && !over {
			if len(buf)+n > limit {
				buf = append(buf, chunk[:limit-len(buf)]...)
				over = true
				if onOverflow != nil {
					onOverflow()
				}
			} else {
				buf = append(buf, chunk[:n]...)
			}
		}
		if err != nil {
			return buf
		}
	}
}

func pluginEnv() []string {
	env := []string{} // not nil: a nil Env would give the plugin the host's whole environment
	for _, name := range pluginEnvNames {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// pipes tracks the descriptors of one run so that every exit path closes them.
type pipes []*os.File

func (p *pipes) pipe() (r, w *os.File, err error) {
	r, w, err = os.Pipe()
	if err != nil {
		return nil, nil, fmt.Errorf("creating a pipe: %w", err)
	}
	*p = append(*p, r, w)
	return r, w, nil
}

func (p *pipes) closeAll() {
	for _, f := range *p {
		_ = f.Close()
	}
}
