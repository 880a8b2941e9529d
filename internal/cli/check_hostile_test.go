package cli

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

// hostileRegistry serves handler on 127.0.0.1 (GET /v2/ answers 200) and
// returns its address; handlers that hold a connection are released when
// the test ends.
func hostileRegistry(t *testing.T, handler func(release <-chan struct{}) http.HandlerFunc) string {
	t.Helper()
	release := make(chan struct{})
	h := handler(release)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" {
			return
		}
		h(w, r)
	}))
	t.Cleanup(func() { close(release); srv.CloseClientConnections(); srv.Close() })
	return strings.TrimPrefix(srv.URL, "http://")
}

// hostileCheck runs check against a hostile registry at addr, with no host
// configuration and the sigstore plugin installed.
func hostileCheck(t *testing.T, addr string, extra ...string) checkResult {
	t.Helper()
	plugins, err := installPlugin(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(protocol.PluginDirsEnv, plugins)
	t.Setenv("CONTAINERS_REGISTRIES_CONF", writeFile(t, "registries.conf", ""))
	t.Setenv("REGISTRY_AUTH_FILE", writeFile(t, "auth.json", "{}"))
	policy := scopePolicy(t, addr+"/team", pluginRequirement(fmt.Sprintf(`{"keyPath": %q, "signedIdentity": {"type": "matchRepository"}}`, publicKeyFile(t))))
	args := []string{"check", "--policy", policy, "--registries.d", t.TempDir(), "--tls-verify=false"}
	args = append(append(args, extra...), addr+"/team/app:1")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	r := checkResult{status: Run(args, strings.NewReader(""), &stdout, &stderr)}
	r.stdout, r.stderr = stdout.String(), stderr.String()
	t.Logf("check: exit %d after %s\nstdout:\n%s\nstderr:\n%s", r.status, time.Since(start).Round(time.Millisecond), r.stdout, r.stderr)
	return r
}

// publicKeyFile writes a throwaway ECDSA public key, for a plugin config
// that validates; nothing is signed with it.
func publicKeyFile(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, "key.pub", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})))
}

// oneBytePerSecond sends headers and then the body a byte a second: never
// idle, never done.
func oneBytePerSecond(release <-chan struct{}) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Content-Length", "100000")
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := w.Write([]byte{' '}); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
				return
			case <-release:
				return
			}
		}
	}
}

func TestCheckTimeoutBoundsTheWholeRun(t *testing.T) {
	addr := hostileRegistry(t, oneBytePerSecond)
	start := time.Now()
	r := hostileCheck(t, addr, "--timeout", "1500ms")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("check took %s with --timeout 1500ms", took)
	}
	r.want(t, ExitUsage, r.stderr, "--timeout 1.5s reached", "manifest", addr)
}

// With --platform all, the timeout bounds every instance together: an
// index answered at once, its instances a byte a second.
func TestCheckTimeoutBoundsEveryInstanceOfPlatformAll(t *testing.T) {
	instances := []string{"sha256:" + strings.Repeat("1", 64), "sha256:" + strings.Repeat("2", 64)}
	index := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`+
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":100000,"platform":{"os":"linux","architecture":"amd64"}},`+
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":%q,"size":100000,"platform":{"os":"linux","architecture":"arm64"}}]}`,
		instances[0], instances[1])
	addr := hostileRegistry(t, func(release <-chan struct{}) http.HandlerFunc {
		slow := oneBytePerSecond(release)
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/team/app/manifests/1" {
				w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
				_, _ = w.Write([]byte(index))
				return
			}
			slow(w, r)
		}
	})
	start := time.Now()
	r := hostileCheck(t, addr, "--platform", "all", "--timeout", "1500ms")
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("check --platform all took %s with --timeout 1500ms", took)
	}
	r.want(t, ExitUsage, r.stderr, "--timeout 1.5s reached", "manifest", instances[0])
}

func TestCheckIdleRegistryIsAnError(t *testing.T) {
	old := registry.IdleTimeout
	registry.IdleTimeout = 300 * time.Millisecond
	t.Cleanup(func() { registry.IdleTimeout = old })
	// A Content-Length longer than the body, the connection held open.
	addr := hostileRegistry(t, func(release <-chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Content-Length", "1000")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"schemaVersion":2,`))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	})
	start := time.Now()
	r := hostileCheck(t, addr)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("check took %s with a 300ms idle timeout", took)
	}
	r.want(t, ExitUsage, r.stderr, "manifest", fmt.Sprintf("%s sent nothing for 300ms", addr))
}

func TestCheckTimeoutFlag(t *testing.T) {
	for _, bad := range []string{"0s", "-1s", "soon"} {
		r := hostileCheck(t, "127.0.0.1:1", "--timeout", bad)
		if r.status != ExitUsage || !strings.Contains(r.stderr, "timeout") {
			t.Errorf("--timeout %s: exit %d, stderr %q; want a usage error", bad, r.status, r.stderr)
		}
	}
}

// The deadline bounds the plugin run too: a plugin still verifying when it
// comes is an error (exit 2) naming the requirement, never a rejection.
func TestCheckTimeoutBoundsThePluginRun(t *testing.T) {
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
		`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	addr := hostileRegistry(t, func(<-chan struct{}) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			_, _ = w.Write(manifest)
		}
	})
	plugins := t.TempDir()
	slow := filepath.Join(plugins, "slow")
	script := "#!/bin/sh\ncase \"$1\" in\nvalidate-config) cat >/dev/null; " +
		`echo '{"apiVersion":"` + protocol.APIVersion + `","kind":"ValidateConfigResponse","valid":true,"errors":[],"warnings":[]}'` +
		";;\n*) exec sleep 30;;\nesac\n"
	if err := os.WriteFile(slow, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(slow, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(protocol.PluginDirsEnv, plugins)
	t.Setenv("CONTAINERS_REGISTRIES_CONF", writeFile(t, "registries.conf", ""))
	t.Setenv("REGISTRY_AUTH_FILE", writeFile(t, "auth.json", "{}"))
	policy := scopePolicy(t, addr+"/team", `{"type": "plugin", "plugin": "slow", "config": {}}`)
	var stdout, stderr bytes.Buffer
	start := time.Now()
	status := Run([]string{"check", "--policy", policy, "--registries.d", t.TempDir(), "--tls-verify=false", "--timeout", "1s", addr + "/team/app:1"},
		strings.NewReader(""), &stdout, &stderr)
	took := time.Since(start)
	t.Logf("exit %d after %s\n%s%s", status, took.Round(time.Millisecond), stdout.String(), stderr.String())
	if took > 5*time.Second {
		t.Errorf("check took %s with --timeout 1s", took)
	}
	if status != ExitUsage || !strings.Contains(stderr.String(), "--timeout 1s reached: requirement 0 (plugin)") {
		t.Errorf("exit %d, stderr %q; want exit 2 naming the plugin requirement", status, stderr.String())
	}
}
