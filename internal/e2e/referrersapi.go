package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"testing"
)

// No registry that implements the OCI referrers API installs on Debian
// bookworm the way docker-registry does (distribution v3.1.2 builds with
// go install but has no referrers API; zot is not on the Go module proxy;
// go-containerregistry's pkg/registry reports config.mediaType as every
// referrer's artifactType, against the spec). So for
// RegistryOptions.ReferrersAPI, StartRegistry puts this proxy in front of the
// real docker-registry: it passes every request through, notes each manifest
// pushed with a subject, and answers GET /v2/<name>/referrers/<digest> as the
// OCI distribution spec v1.1 says, from what it noted.

var (
	referrersPath = regexp.MustCompile(`^/v2/(.+)/referrers/(sha256:[0-9a-f]{64})$`)
	manifestPath  = regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`)
)

type referrersProxy struct {
	backend http.Handler
	mu      sync.Mutex
	// referrers maps "<name>@<subject digest>" to its referrers, in push order.
	referrers map[string][]OCIDescriptor
}

// startReferrersProxy serves the proxy for the registry at backendAddr on
// 127.0.0.1 and returns its address; t.Cleanup stops it.
func startReferrersProxy(t testing.TB, backendAddr string) string {
	t.Helper()
	p := &referrersProxy{
		backend:   httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: backendAddr}),
		referrers: map[string][]OCIDescriptor{},
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func (p *referrersProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if m := referrersPath.FindStringSubmatch(r.URL.Path); m != nil && r.Method == http.MethodGet {
		p.serveReferrers(w, r, m[1], m[2])
		return
	}
	m := manifestPath.FindStringSubmatch(r.URL.Path)
	switch {
	case m != nil && r.Method == http.MethodPut:
		p.putManifest(w, r, m[1])
	case m != nil && r.Method == http.MethodDelete:
		rec := httptest.NewRecorder()
		p.backend.ServeHTTP(rec, r)
		if rec.Code == http.StatusAccepted {
			p.forget(m[1], m[2])
		}
		copyResponse(w, rec)
	default:
		p.backend.ServeHTTP(w, r)
	}
}

// putManifest passes a manifest PUT through and notes the manifest when it
// has a subject, answering with the OCI-Subject header as the spec says.
func (p *referrersProxy) putManifest(w http.ResponseWriter, r *http.Request, name string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := httptest.NewRecorder()
	p.backend.ServeHTTP(rec, r)

	var m OCIManifest
	if rec.Code == http.StatusCreated && json.Unmarshal(body, &m) == nil && m.Subject != nil {
		desc := OCIDescriptor{
			MediaType:    r.Header.Get("Content-Type"),
			Digest:       Digest(body),
			Size:         int64(len(body)),
			ArtifactType: m.ArtifactType,
			Annotations:  m.Annotations,
		}
		if desc.ArtifactType == "" && m.Config != nil {
			desc.ArtifactType = m.Config.MediaType
		}
		p.mu.Lock()
		key := name + "@" + m.Subject.Digest
		if !slices.ContainsFunc(p.referrers[key], func(d OCIDescriptor) bool { return d.Digest == desc.Digest }) {
			p.referrers[key] = append(p.referrers[key], desc)
		}
		p.mu.Unlock()
		rec.Header().Set("OCI-Subject", m.Subject.Digest)
	}
	copyResponse(w, rec)
}

// forget drops a deleted manifest from every referrers list of name.
func (p *referrersProxy) forget(name, digest string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for key, descs := range p.referrers {
		if len(key) > len(name) && key[:len(name)+1] == name+"@" {
			p.referrers[key] = slices.DeleteFunc(descs, func(d OCIDescriptor) bool { return d.Digest == digest })
		}
	}
}

// serveReferrers answers the referrers API: an OCI index, empty when there
// are none, filtered by ?artifactType= with OCI-Filters-Applied.
func (p *referrersProxy) serveReferrers(w http.ResponseWriter, r *http.Request, name, subject string) {
	p.mu.Lock()
	descs := slices.Clone(p.referrers[name+"@"+subject])
	p.mu.Unlock()
	if at := r.URL.Query().Get("artifactType"); at != "" {
		descs = slices.DeleteFunc(descs, func(d OCIDescriptor) bool { return d.ArtifactType != at })
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	if descs == nil {
		descs = []OCIDescriptor{}
	}
	body, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": MediaTypeOCIIndex, "manifests": descs})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", MediaTypeOCIIndex)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
