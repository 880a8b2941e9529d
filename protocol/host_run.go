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

// run runs `path command` with request on stdin, within the limits of the
// protocol. An error means the run produced no usable answer: it could not
// start, timed out, was killed by a signal, or wrote too much. Exit statuses
// are the caller's to judge.
func (h *Host) run(ctx context.Context, path, command string, request []byte) (*invocation, error) {
	if len(request) > MaxRequestBytes {
		return nil, fmt.Errorf("request is %d bytes, more than the %d allowed", len(request), MaxRequestBytes)
	}
	timeout := h.timeout()
	caller := ctx
	ctx, cancel := context.WithTimeout(caller, timeout)
	defer cancel()

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
	go func() {
		// A plugin may exit without reading its request (metadata): EPIPE is fine.
		_, _ = stdinW.Write(request)
		_ = stdinW.Close()
	}()

	exited := make(chan error, 1)
	go func() { exited <- waitExited(pid) }()
	var timedOut error
	select {
	case err = <-exited:
	case <-ctx.Done():
		timedOut = ctx.Err()
		killGroup(pid)
		err = <-exited
	}
	// The leader has exited but is not reaped yet: kill what it left behind
	// in its group, so nothing outlives the call or holds the pipes open.
	killGroup(pid)
	stdout, stdoutHeld := collect(stdoutDone, stdoutR)
	stderr, _ := collect(stderrDone, stderrR)
	_ = stdinW.Close() // unblocks the writer if a stray process held stdin
	waitErr := cmd.Wait()

	switch {
	case err != nil:
		return nil, fmt.Errorf("waiting for the plugin: %w", err)
	// Name what ended the run: the host's own timeout, or the caller's context
	// (a pull's deadline or cancellation), whose limit the host does not know.
	case timedOut != nil && caller.Err() != nil && errors.Is(caller.Err(), context.DeadlineExceeded):
		return nil, fmt.Errorf("timed out at the caller's deadline (%w); its process group was killed", caller.Err())
	case timedOut != nil && caller.Err() != nil:
		return nil, fmt.Errorf("canceled (%w); its process group was killed", caller.Err())
	case timedOut != nil:
		return nil, fmt.Errorf("timed out after %s; its process group was killed", timeout)
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
