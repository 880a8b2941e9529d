package registry

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.podman.io/image/v5/docker/reference"
)

// go-containerregistry talks plain HTTP to loopback registries on its own;
// without Options.Insecure the client must refuse, as containers/image does.
func TestRemoteOptionsRefusePlainHTTPUnlessInsecure(t *testing.T) {
	var requests int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	named, err := reference.ParseNormalizedNamed(host + "/team/app")
	if err != nil {
		t.Fatal(err)
	}
	d := "sha256:" + strings.Repeat("0", 64)

	for _, insecure := range []bool{false, true} {
		opts := Options{Insecure: insecure, AuthFile: t.TempDir() + "/auth.json"}
		ropts, err := opts.remoteOptions(opts.systemContext(), named)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.NewDigest(host+"/team/app@"+d, opts.nameOptions()...)
		if err != nil {
			t.Fatal(err)
		}
		requests = 0
		_, err = remote.Referrers(ref, append(ropts, remote.WithContext(t.Context()))...)
		if insecure {
			if requests == 0 {
				t.Errorf("Insecure: no request reached the plain-HTTP registry (err %v)", err)
			}
			continue
		}
		if !errors.Is(err, errPlainHTTP) || requests != 0 {
			t.Errorf("not Insecure: err %v, %d requests; want errPlainHTTP and none", err, requests)
		}
	}
}

func TestIsJSONObject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{`{}`, true},
		{`{"mediaType":"x"}`, true},
		{" \n{\"a\":1}\n ", true},
		{``, false},
		{`null`, false},
		{`[]`, false},
		{`"s"`, false},
		{`{} {}`, false},
		{`{}x`, false},
		{`{"a":`, false},
	} {
		if got := isJSONObject([]byte(tc.in)); got != tc.want {
			t.Errorf("isJSONObject(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestIsBundleMediaType(t *testing.T) {
	for _, mt := range []string{
		"application/vnd.dev.sigstore.bundle.v0.3+json",
		"application/vnd.dev.sigstore.bundle+json;version=0.3",
		"application/vnd.dev.sigstore.bundle+json;version=0.2",
		"application/vnd.dev.sigstore.bundle+json;version=0.1",
	} {
		if !IsBundleMediaType(mt) {
			t.Errorf("IsBundleMediaType(%q) = false", mt)
		}
	}
	for _, mt := range []string{
		"", "application/json", "application/vnd.dev.cosign.artifact.sig.v1+json",
		"application/vnd.dev.sigstore.bundle.v0.3+json ", "APPLICATION/VND.DEV.SIGSTORE.BUNDLE.V0.3+JSON",
		"application/vnd.dev.sigstore.bundle+json", "application/vnd.dev.sigstore.bundle+json;version=0.4",
	} {
		if IsBundleMediaType(mt) {
			t.Errorf("IsBundleMediaType(%q) = true", mt)
		}
	}
}
