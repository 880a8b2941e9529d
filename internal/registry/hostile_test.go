package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/registry"
)

// hostileRegistry is a registry API on 127.0.0.1 made of stdlib handlers, for
// what a real registry would never do: answer slowly, lie about lengths,
// send too much. Routes are exact paths (with the query); what is not routed
// is 404. /v2/ answers 200 unless routed.
type hostileRegistry struct {
	srv    *httptest.Server
	addr   string
	mu     sync.Mutex
	routes map[string]http.HandlerFunc
	// hits counts requests by path.
	hits map[string]int
	// release ends every handler that holds a connection open.
	release chan struct{}
}

func newHostileRegistry(t *testing.T) *hostileRegistry {
	t.Helper()
	h := &hostileRegistry{routes: map[string]http.HandlerFunc{}, hits: map[string]int{}, release: make(chan struct{})}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.hits[r.URL.Path]++
		route, ok := h.routes[r.URL.Path]
		h.mu.Unlock()
		switch {
		case ok:
			route(w, r)
		case r.URL.Path == "/v2/":
			w.WriteHeader(http.StatusOK)
		default:
			http.NotFound(w, r)
		}
	}))
	// Close releases the held handlers first, or it would wait for them.
	t.Cleanup(func() { close(h.release); h.srv.CloseClientConnections(); h.srv.Close() })
	h.addr = strings.TrimPrefix(h.srv.URL, "http://")
	return h
}

func (h *hostileRegistry) route(path string, f http.HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.routes[path] = f
}

func (h *hostileRegistry) count(path string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits[path]
}

// hold waits until the test ends or the client goes away.
func (h *hostileRegistry) hold(r *http.Request) {
	select {
	case <-h.release:
	case <-r.Context().Done():
	}
}

// serveBytes answers with data, its media type and digest.
func serveBytes(mediaType string, data []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaType)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(data).String())
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(data)
		}
	}
}

const ociManifest = "application/vnd.oci.image.manifest.v1+json"

// testImageManifest is a small OCI image manifest; nothing fetches its blobs.
var testImageManifest = []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` +
	`"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},` +
	`"layers":[]}`)

// withImage routes team/app:1.4 and its digest to testImageManifest.
func (h *hostileRegistry) withImage() digest.Digest {
	d := digest.FromBytes(testImageManifest)
	h.route("/v2/team/app/manifests/1.4", serveBytes(ociManifest, testImageManifest))
	h.route("/v2/team/app/manifests/"+d.String(), serveBytes(ociManifest, testImageManifest))
	return d
}

// shortIdle sets registry.IdleTimeout to d for the test.
func shortIdle(t *testing.T, d time.Duration) {
	t.Helper()
	old := registry.IdleTimeout
	registry.IdleTimeout = d
	t.Cleanup(func() { registry.IdleTimeout = old })
}

// within runs f with a context that ends after limit and fails t when f
// takes longer than limit plus a margin, or returns no error.
func within(t *testing.T, limit time.Duration, f func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	start := time.Now()
	err := f(ctx)
	if took := time.Since(start); took > limit+2*time.Second {
		t.Errorf("took %s, want at most %s", took, limit)
	}
	if err == nil {
		t.Fatal("no error from a hostile registry")
	}
	t.Logf("error after %s: %v", time.Since(start).Round(time.Millisecond), err)
	return err
}

func hostileOptions(t *testing.T) registry.Options {
	t.Helper()
	return testOptions(t)
}

// wantIdle asserts err says which connection went silent.
func wantIdle(t *testing.T, err error, h *hostileRegistry) {
	t.Helper()
	if !strings.Contains(err.Error(), h.addr+" sent nothing for") {
		t.Errorf("error %q does not say that %s went silent", err, h.addr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q is the overall deadline, not the idle timeout", err)
	}
}

// headersThenSilence sends headers promising more than it sends, then holds
// the connection open: a lying Content-Length, or a stalled body.
func (h *hostileRegistry) headersThenSilence(mediaType string, promised int, sent []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaType)
		w.Header().Set("Content-Length", fmt.Sprint(promised))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(sent)
		w.(http.Flusher).Flush()
		h.hold(r)
	}
}

func TestIdleTimeoutOnTheManifest(t *testing.T) {
	shortIdle(t, 300*time.Millisecond)
	h := newHostileRegistry(t)
	h.route("/v2/team/app/manifests/1.4", h.headersThenSilence(ociManifest, len(testImageManifest)+100, testImageManifest))
	err := within(t, 10*time.Second, func(ctx context.Context) error {
		img, err := registry.Open(ctx, h.addr+"/team/app:1.4", hostileOptions(t))
		if err != nil {
			return err
		}
		defer func() { _ = img.Close() }()
		_, err = img.Manifest(ctx)
		return err
	})
	wantIdle(t, err, h)
	if !strings.Contains(err.Error(), "manifest") {
		t.Errorf("error %q does not say what was being read", err)
	}
}

func TestIdleTimeoutBeforeTheHeaders(t *testing.T) {
	shortIdle(t, 300*time.Millisecond)
	h := newHostileRegistry(t)
	h.route("/v2/team/app/manifests/1.4", func(w http.ResponseWriter, r *http.Request) { h.hold(r) })
	err := within(t, 10*time.Second, func(ctx context.Context) error {
		img, err := registry.Open(ctx, h.addr+"/team/app:1.4", hostileOptions(t))
		if err != nil {
			return err
		}
		defer func() { _ = img.Close() }()
		_, err = img.Manifest(ctx)
		return err
	})
	wantIdle(t, err, h)
}

func TestIdleTimeoutOnASlowBearerRealm(t *testing.T) {
	shortIdle(t, 300*time.Millisecond)
	h := newHostileRegistry(t)
	h.route("/v2/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="hostile"`, h.addr))
		w.WriteHeader(http.StatusUnauthorized)
	})
	h.route("/token", func(w http.ResponseWriter, r *http.Request) { h.hold(r) })
	h.route("/v2/team/app/manifests/1.4", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="hostile",scope="repository:team/app:pull"`, h.addr))
		w.WriteHeader(http.StatusUnauthorized)
	})
	err := within(t, 10*time.Second, func(ctx context.Context) error {
		img, err := registry.Open(ctx, h.addr+"/team/app:1.4", hostileOptions(t))
		if err != nil {
			return err
		}
		defer func() { _ = img.Close() }()
		_, err = img.Manifest(ctx)
		return err
	})
	wantIdle(t, err, h)
	if h.count("/token") == 0 {
		t.Error("the token realm was never asked")
	}
}

func TestIdleTimeoutOnAnAttachmentBlob(t *testing.T) {
	shortIdle(t, 300*time.Millisecond)
	h := newHostileRegistry(t)
	d := h.withImage()
	payload := []byte(`{"critical":{}}`)
	sig := sigManifest(t, sigLayer{payload: payload})
	h.route("/v2/team/app/manifests/"+sigTagOf(d), serveBytes(ociManifest, sig))
	h.route("/v2/team/app/blobs/"+digest.FromBytes(payload).String(), h.headersThenSilence("application/octet-stream", len(payload), payload[:3]))
	img := open(t, h.addr+"/team/app:1.4", hostileOptions(t))
	err := within(t, 10*time.Second, func(ctx context.Context) error {
		_, err := img.Attachments(ctx, d)
		return err
	})
	wantIdle(t, err, h)
}

func TestIdleTimeoutOnTheReferrers(t *testing.T) {
	shortIdle(t, 300*time.Millisecond)
	h := newHostileRegistry(t)
	d := h.withImage()
	h.route("/v2/team/app/referrers/"+d.String(), h.headersThenSilence("application/vnd.oci.image.index.v1+json", 1000, []byte(`{"schemaVersion":2,`)))
	img := open(t, h.addr+"/team/app:1.4", hostileOptions(t))
	err := within(t, 10*time.Second, func(ctx context.Context) error {
		_, _, err := img.Bundles(ctx, d)
		return err
	})
	wantIdle(t, err, h)
}

// A server that keeps sending, slowly, is never idle: the caller's deadline
// ends it.
func TestOneBytePerSecondEndsAtTheDeadline(t *testing.T) {
	h := newHostileRegistry(t)
	h.route("/v2/team/app/manifests/1.4", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ociManifest)
		w.Header().Set("Content-Length", fmt.Sprint(len(testImageManifest)))
		w.WriteHeader(http.StatusOK)
		for _, b := range testImageManifest {
			_, _ = w.Write([]byte{b})
			w.(http.Flusher).Flush()
			select {
			case <-time.After(time.Second):
			case <-r.Context().Done():
				return
			case <-h.release:
				return
			}
		}
	})
	err := within(t, 2*time.Second, func(ctx context.Context) error {
		img, err := registry.Open(ctx, h.addr+"/team/app:1.4", hostileOptions(t))
		if err != nil {
			return err
		}
		defer func() { _ = img.Close() }()
		_, err = img.Manifest(ctx)
		return err
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %q is not the deadline", err)
	}
}

// Both clients retry a 429, as they should, but never past the deadline,
// whatever Retry-After says.
func TestTooManyRequestsRetriesInsideTheDeadline(t *testing.T) {
	tooMany := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}
	t.Run("manifest (containers/image)", func(t *testing.T) {
		h := newHostileRegistry(t)
		h.route("/v2/team/app/manifests/1.4", tooMany)
		err := within(t, 2*time.Second, func(ctx context.Context) error {
			img, err := registry.Open(ctx, h.addr+"/team/app:1.4", hostileOptions(t))
			if err != nil {
				return err
			}
			defer func() { _ = img.Close() }()
			_, err = img.Manifest(ctx)
			return err
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %q is not the deadline", err)
		}
	})
	t.Run("referrers (go-containerregistry)", func(t *testing.T) {
		h := newHostileRegistry(t)
		d := h.withImage()
		h.route("/v2/team/app/referrers/"+d.String(), tooMany)
		img := open(t, h.addr+"/team/app:1.4", hostileOptions(t))
		_ = within(t, 2*time.Second, func(ctx context.Context) error {
			_, _, err := img.Bundles(ctx, d)
			return err
		})
	})
}

// sigLayer is one layer of a .sig attachment manifest.
type sigLayer struct {
	payload []byte
	size    int64 // 0: len(payload)
	digest  digest.Digest
}

// sigManifest is a cosign .sig attachment manifest with layers.
func sigManifest(t *testing.T, layers ...sigLayer) []byte {
	t.Helper()
	type desc struct {
		MediaType   string            `json:"mediaType"`
		Digest      digest.Digest     `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	m := struct {
		SchemaVersion int    `json:"schemaVersion"`
		MediaType     string `json:"mediaType"`
		Config        desc   `json:"config"`
		Layers        []desc `json:"layers"`
	}{SchemaVersion: 2, MediaType: ociManifest, Config: desc{MediaType: "application/vnd.oci.image.config.v1+json", Digest: digest.FromString("{}"), Size: 2}, Layers: []desc{}}
	for _, l := range layers {
		d := desc{MediaType: simpleSigningMIMEType, Digest: l.digest, Size: l.size, Annotations: map[string]string{"dev.cosignproject.cosign/signature": "c2ln"}}
		if d.Digest == "" {
			d.Digest = digest.FromBytes(l.payload)
		}
		if d.Size == 0 {
			d.Size = int64(len(l.payload))
		}
		m.Layers = append(m.Layers, d)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func sigTagOf(d digest.Digest) string { return strings.Replace(d.String(), ":", "-", 1) + ".sig" }
