package registry_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

// redirectSetup is registry A, which wants Basic credentials (auth.json has
// them for A only) and redirects path to registry B on another port of the
// same host; B records the Authorization header of every request.
type redirectSetup struct {
	a, b *hostileRegistry
	opts registry.Options

	mu   sync.Mutex
	auth []string // Authorization headers B received
}

const redirectCreds = "alice:secret-for-a"

func newRedirectSetup(t *testing.T) *redirectSetup {
	t.Helper()
	s := &redirectSetup{a: newHostileRegistry(t), b: newHostileRegistry(t)}
	s.a.route("/v2/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="a"`)
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	s.opts = testOptions(t)
	s.opts.AuthFile = emptyFile(t, "auth.json", fmt.Sprintf(`{"auths": {%q: {"auth": %q}}}`,
		s.a.addr, base64.StdEncoding.EncodeToString([]byte(redirectCreds))))
	return s
}

// redirect makes A answer path (with credentials) with a 302 to the same
// path on B, where B serves f.
func (s *redirectSetup) redirect(path string, f http.HandlerFunc) {
	s.a.route(path, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.Header().Set("WWW-Authenticate", `Basic realm="a"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		http.Redirect(w, r, "http://"+s.b.addr+r.URL.RequestURI(), http.StatusFound)
	})
	s.b.route(path, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.auth = append(s.auth, r.Header.Get("Authorization"))
		s.mu.Unlock()
		f(w, r)
	})
}

func (s *redirectSetup) received(t *testing.T) []string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.auth) == 0 {
		t.Fatal("B was never asked: the redirect was not followed")
	}
	return s.auth
}

var basicA = "Basic " + base64.StdEncoding.EncodeToString([]byte(redirectCreds))

// The project's own client (go-containerregistry: the .sig manifest, its
// layers, the referrers): credentials for A never go to B.
func TestOwnClientSendsNoCredentialsOnARedirectToAnotherPort(t *testing.T) {
	s := newRedirectSetup(t)
	d := s.a.withImage()
	s.redirect("/v2/team/app/manifests/1.4", serveBytes(ociManifest, testImageManifest))
	s.redirect("/v2/team/app/referrers/"+d.String(), serveBytes("application/vnd.oci.image.index.v1+json",
		[]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`)))
	payload := []byte(`{"critical":{}}`)
	s.redirect("/v2/team/app/manifests/"+sigTagOf(d), serveBytes(ociManifest, sigManifest(t, sigLayer{payload: payload})))
	s.redirect("/v2/team/app/blobs/"+digest.FromBytes(payload).String(), serveBytes("application/octet-stream", payload))
	img, err := registry.Open(context.Background(), s.a.addr+"/team/app:1.4", s.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = img.Close() }()
	s.mu.Lock()
	s.auth = nil // what containers/image sent when it opened the image is the next test's
	s.mu.Unlock()
	sigs, err := img.Signatures(t.Context(), d, protocol.NewSignatureBudget(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs.Attachments) != 1 {
		t.Fatalf("%d attachments read through the redirect, want 1", len(sigs.Attachments))
	}
	for _, got := range s.received(t) {
		if got != "" {
			t.Errorf("B received Authorization %q on a redirect from A", got)
		}
	}
}

// containers/image's docker client (manifests, attachments, blobs) keeps
// the Authorization header on a redirect to the same host name on another
// port, as Go's net/http does: podman does the same, and check, which must
// read what podman reads, too. The man page says so, with the mitigation.
// This pins it: if containers/image starts stripping it, say so there.
func TestContainersImageKeepsCredentialsOnARedirectToAnotherPort(t *testing.T) {
	s := newRedirectSetup(t)
	s.redirect("/v2/team/app/manifests/1.4", serveBytes(ociManifest, testImageManifest))
	img := open(t, s.a.addr+"/team/app:1.4", s.opts)
	m, err := img.Manifest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if m.Digest != digest.FromBytes(testImageManifest) {
		t.Fatalf("manifest %s", m.Digest)
	}
	for _, got := range s.received(t) {
		if got != basicA {
			t.Errorf("B received Authorization %q; containers/image used to send A's credentials (%q)", got, basicA)
		}
	}
}
