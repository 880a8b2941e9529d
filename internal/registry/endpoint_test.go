package registry

import (
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.podman.io/image/v5/docker/reference"
)

func writeTestFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The referrers client's places, TLS policy and credentials come from
// registries.conf and auth.json exactly as containers/image reads them.
func TestPullCandidatesFollowRegistriesConf(t *testing.T) {
	// auth.json: credentials for the mirror's host only.
	authFile := writeTestFile(t, "auth.json", `{"auths": {"127.0.0.1:6000": {"auth": "bWlycm9yOnNlY3JldA=="}}}`)
	type want struct {
		place, repo string
		insecure    bool
		user        string // "" for anonymous
		nsProxy     string
		err         string
	}
	tests := []struct {
		name, conf, image        string
		insecureFlag, verifyFlag bool
		want                     []want
	}{
		{
			name: "no configuration: the registry itself, TLS verified, anonymous",
			conf: ``, image: "127.0.0.1:5000/team/app:1",
			want: []want{{place: "127.0.0.1:5000/team/app:1", repo: "127.0.0.1:5000/team/app"}},
		},
		{
			name: "insecure = true",
			conf: "[[registry]]\nlocation = \"127.0.0.1:5000\"\ninsecure = true\n", image: "127.0.0.1:5000/team/app:1",
			want: []want{{place: "127.0.0.1:5000/team/app:1", repo: "127.0.0.1:5000/team/app", insecure: true}},
		},
		{
			name: "--tls-verify=false wins over registries.conf",
			conf: ``, image: "127.0.0.1:5000/team/app:1", insecureFlag: true,
			want: []want{{place: "127.0.0.1:5000/team/app:1", repo: "127.0.0.1:5000/team/app", insecure: true}},
		},
		{
			name: "--tls-verify=true wins over insecure = true",
			conf: "[[registry]]\nlocation = \"127.0.0.1:5000\"\ninsecure = true\n", image: "127.0.0.1:5000/team/app:1", verifyFlag: true,
			want: []want{{place: "127.0.0.1:5000/team/app:1", repo: "127.0.0.1:5000/team/app"}},
		},
		{
			name: "blocked = true",
			conf: "[[registry]]\nlocation = \"127.0.0.1:5000\"\nblocked = true\n", image: "127.0.0.1:5000/team/app:1",
			want: []want{{place: "127.0.0.1:5000/team/app:1", err: "registry 127.0.0.1:5000 is blocked"}},
		},
		{
			name: "a mirror first, with its own insecure and its own credentials, then the registry",
			conf: "[[registry]]\nprefix = \"127.0.0.1:5000/team\"\nlocation = \"127.0.0.1:5000/team\"\n" +
				"[[registry.mirror]]\nlocation = \"127.0.0.1:6000/cache\"\ninsecure = true\n",
			image: "127.0.0.1:5000/team/app:1",
			want: []want{
				{place: "127.0.0.1:6000/cache/app:1", repo: "127.0.0.1:6000/cache/app", insecure: true, user: "mirror"},
				{place: "127.0.0.1:5000/team/app:1", repo: "127.0.0.1:5000/team/app"},
			},
		},
		{
			name: "a mirror-by-digest-only mirror is not used for a tag",
			conf: "[[registry]]\nlocation = \"127.0.0.1:5000\"\nmirror-by-digest-only = true\n" +
				"[[registry.mirror]]\nlocation = \"127.0.0.1:6000\"\n",
			image: "127.0.0.1:5000/team/app:1",
			want:  []want{{place: "127.0.0.1:5000/team/app:1", repo: "127.0.0.1:5000/team/app"}},
		},
		{
			name: "a blocked mirror is skipped by its own entry",
			conf: "[[registry]]\nlocation = \"127.0.0.1:5000\"\n[[registry.mirror]]\nlocation = \"127.0.0.1:6000\"\n" +
				"[[registry]]\nlocation = \"127.0.0.1:6000\"\nblocked = true\n",
			image: "127.0.0.1:5000/team/app:1",
			want: []want{
				{place: "127.0.0.1:6000/team/app:1", err: "registry 127.0.0.1:6000 is blocked"},
				{place: "127.0.0.1:5000/team/app:1", repo: "127.0.0.1:5000/team/app"},
			},
		},
		{
			name:  "a location rewrite and a namespace proxy",
			conf:  "[[registry]]\nprefix = \"registry.example.com/team\"\nlocation = \"127.0.0.1:5000/mirrored/team\"\nnamespace-proxy = \"registry.example.com\"\n",
			image: "registry.example.com/team/app:1",
			want:  []want{{place: "127.0.0.1:5000/mirrored/team/app:1", repo: "127.0.0.1:5000/mirrored/team/app", nsProxy: "registry.example.com"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Insecure: tt.insecureFlag, VerifyTLS: tt.verifyFlag, RegistriesConf: writeTestFile(t, "registries.conf", tt.conf), AuthFile: authFile}
			named, err := reference.ParseNormalizedNamed(tt.image)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pullCandidates(opts.systemContext(), named)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d places %+v, want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				c := got[i]
				if c.place != w.place {
					t.Errorf("place %d: %s, want %s", i, c.place, w.place)
				}
				if w.err != "" {
					if c.err == nil || !strings.Contains(c.err.Error(), w.err) {
						t.Errorf("place %d: error %v, want %q", i, c.err, w.err)
					}
					continue
				}
				if c.err != nil {
					t.Fatalf("place %d: %v", i, c.err)
				}
				if c.ep.repo.String() != w.repo || c.ep.insecure != w.insecure || c.ep.nsProxy != w.nsProxy {
					t.Errorf("place %d: repo %s insecure %v ns %q, want %s %v %q", i, c.ep.repo, c.ep.insecure, c.ep.nsProxy, w.repo, w.insecure, w.nsProxy)
				}
				cfg, err := c.ep.auth.Authorization()
				if err != nil {
					t.Fatal(err)
				}
				if cfg.Username != w.user || (w.user == "" && c.ep.auth != authn.Anonymous) {
					t.Errorf("place %d: credentials of %q, want %q", i, cfg.Username, w.user)
				}
			}
		})
	}
}

// go-containerregistry talks plain HTTP to loopback registries on its own;
// a place that is not insecure must be refused, as containers/image does.
// A namespace proxy is asked for on every request.
func TestEndpointPlainHTTPOnlyWhenInsecure(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.URL.Query().Get("ns"))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	d := "sha256:" + strings.Repeat("0", 64)

	for _, insecure := range []bool{false, true} {
		conf := "[[registry]]\nlocation = \"" + host + "\"\nnamespace-proxy = \"upstream.example.com\"\n"
		if insecure {
			conf += "insecure = true\n"
		}
		opts := Options{RegistriesConf: writeTestFile(t, "registries.conf", conf), AuthFile: writeTestFile(t, "auth.json", "{}")}
		named, err := reference.ParseNormalizedNamed(host + "/team/app")
		if err != nil {
			t.Fatal(err)
		}
		candidates, err := pullCandidates(opts.systemContext(), named)
		if err != nil || len(candidates) != 1 || candidates[0].err != nil {
			t.Fatalf("candidates %+v, %v", candidates, err)
		}
		ep := candidates[0].ep
		p, err := ep.puller("test")
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		queries = nil
		mu.Unlock()
		_, err = remote.Referrers(ep.repo.Digest(d), remote.Reuse(p), remote.WithContext(t.Context()))
		mu.Lock()
		got := queries
		mu.Unlock()
		if !insecure {
			if !errors.Is(err, errPlainHTTP) || len(got) != 0 {
				t.Errorf("not insecure: err %v, %d requests; want errPlainHTTP and none", err, len(got))
			}
			continue
		}
		if len(got) == 0 {
			t.Errorf("insecure: no request reached the plain-HTTP registry (err %v)", err)
		}
		for _, ns := range got {
			if ns != "upstream.example.com" {
				t.Errorf("a request with ns=%q, want the namespace proxy on every request", ns)
			}
		}
	}
}

// A registry whose certificate only certs.d's CA vouches for is reached by
// the referrers client too, as by containers/image; without it, TLS fails.
func TestEndpointTrustsCertsD(t *testing.T) {
	var mu sync.Mutex
	requests := 0
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		requests++
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	certsD := t.TempDir()
	if err := os.MkdirAll(filepath.Join(certsD, host), 0o755); err != nil {
		t.Fatal(err)
	}
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(filepath.Join(certsD, host, "ca.crt"), ca, 0o644); err != nil {
		t.Fatal(err)
	}
	named, err := reference.ParseNormalizedNamed(host + "/team/app")
	if err != nil {
		t.Fatal(err)
	}
	d := "sha256:" + strings.Repeat("0", 64)

	for _, withCA := range []bool{true, false} {
		opts := Options{RegistriesConf: writeTestFile(t, "registries.conf", ""), AuthFile: writeTestFile(t, "auth.json", "{}")}
		sys := opts.systemContext()
		sys.DockerPerHostCertDirPath = t.TempDir()
		if withCA {
			sys.DockerPerHostCertDirPath = certsD
		}
		candidates, err := pullCandidates(sys, named)
		if err != nil || len(candidates) != 1 || candidates[0].err != nil {
			t.Fatalf("candidates %+v, %v", candidates, err)
		}
		p, err := candidates[0].ep.puller("test")
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		requests = 0
		mu.Unlock()
		_, err = remote.Referrers(candidates[0].ep.repo.Digest(d), remote.Reuse(p), remote.WithContext(t.Context()))
		mu.Lock()
		got := requests
		mu.Unlock()
		switch {
		case withCA && (got == 0 || (err != nil && strings.Contains(err.Error(), "certificate"))):
			t.Errorf("with certs.d's CA: %d requests, err %v; want the registry reached", got, err)
		case !withCA && (got != 0 || err == nil || !strings.Contains(err.Error(), "certificate")):
			t.Errorf("without it: %d requests, err %v; want a certificate error and none", got, err)
		}
	}
}
