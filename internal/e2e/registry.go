package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// RegistryOptions configures StartRegistry.
type RegistryOptions struct {
	// Binary is the registry executable; empty means docker-registry (Debian's
	// distribution 2.8, no OCI referrers API) from PATH. It is run as
	// `Binary serve CONFIG` with a distribution configuration file.
	Binary string
	// ReferrersAPI puts an in-process proxy in front of the registry that
	// implements the OCI referrers API (GET /v2/<name>/referrers/<digest>,
	// OCI-Subject on manifest PUT); see referrersapi.go for why. Clients
	// then use the API and write no referrers tag.
	ReferrersAPI bool
}

// registryConfig is a distribution (v2 or v3) configuration: plain HTTP on
// loopback, no auth, filesystem storage, deletes allowed.
const registryConfig = `version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: cps-e2e-registry
`

// StartRegistry runs a real registry binary on 127.0.0.1 on a free port, with
// its storage in a temporary directory, waits until GET /v2/ answers 200 and
// returns its address ("127.0.0.1:PORT"). The registry is stopped by
// t.Cleanup. Without RegistryOptions.ReferrersAPI it has no OCI referrers
// API: clients use the referrers tag fallback. It speaks plain HTTP: use
// skopeo --dest-tls-verify=false and cosign --allow-http-registry. A missing
// binary fails t.
func StartRegistry(t testing.TB, opts RegistryOptions) string {
	t.Helper()
	bin := opts.Binary
	if bin == "" {
		bin = ToolPath(t, "docker-registry")
	}
	dir := t.TempDir()
	var lastErr error
	// The port is free when we pick it but the registry binds it later, so
	// another process may take it in between: try again with another port.
	for attempt := 0; attempt < 5; attempt++ {
		addr, err := freeLoopbackAddr()
		if err != nil {
			t.Fatalf("e2e: picking a port: %v", err)
		}
		storage := filepath.Join(dir, fmt.Sprintf("storage-%d", attempt))
		config := filepath.Join(dir, fmt.Sprintf("config-%d.yml", attempt))
		if err := os.WriteFile(config, fmt.Appendf(nil, registryConfig, storage, addr), 0o600); err != nil {
			t.Fatal(err)
		}
		stop, err := startRegistryProcess(bin, config, addr)
		if err == nil {
			t.Cleanup(stop)
			if opts.ReferrersAPI {
				return startReferrersProxy(t, addr)
			}
			return addr
		}
		lastErr = err
	}
	t.Fatalf("e2e: starting %s: %v", bin, lastErr)
	return ""
}

// freeLoopbackAddr returns 127.0.0.1:PORT for a port that was free just now.
func freeLoopbackAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer func() { _ = l.Close() }()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(l.Addr().(*net.TCPAddr).Port)), nil
}

// lockedBuffer collects a child's output while it runs.
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

// startRegistryProcess starts `bin serve config` and waits up to 15 s for
// http://addr/v2/ to answer 200 (or 401). It returns a function that stops it.
func startRegistryProcess(bin, config, addr string) (stop func(), err error) {
	var output lockedBuffer
	cmd := exec.Command(bin, "serve", config)
	cmd.Stdout = &output
	cmd.Stderr = &output
	cmd.Env = registryEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop = func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	client := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			// 401: a registry with auth (authregistry.go) is up too.
			if resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusUnauthorized {
				return stop, nil
			}
		}
		select {
		case <-exited:
			return nil, fmt.Errorf("%s exited before answering on %s: %s", bin, addr, output.String())
		case <-ctx.Done():
			stop()
			return nil, fmt.Errorf("%s did not answer on http://%s/v2/ within 15s: %s", bin, addr, output.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// registryEnv is the environment without REGISTRY_* variables, which
// distribution would take as configuration overrides.
func registryEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "REGISTRY_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
