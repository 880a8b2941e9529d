package registry_test

import (
	"bytes"
	"net"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/registry"
)

func TestParseReference(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1:5000/team/app:1.4", "127.0.0.1:5000/team/app:1.4"},
		{"docker://127.0.0.1:5000/team/app:1.4", "127.0.0.1:5000/team/app:1.4"},
		{"busybox", "docker.io/library/busybox:latest"},
		{"quay.io/x/y@sha256:0123456789012345678901234567890123456789012345678901234567890123", "quay.io/x/y@sha256:0123456789012345678901234567890123456789012345678901234567890123"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			ref, err := registry.ParseReference(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if got := ref.DockerReference().String(); got != tc.want {
				t.Errorf("DockerReference = %s, want %s", got, tc.want)
			}
		})
	}
	for _, bad := range []string{"", "docker:////x", "UPPER/case", "a:b:c", "oci:/tmp/x"} {
		t.Run("rejects "+bad, func(t *testing.T) {
			if ref, err := registry.ParseReference(bad); err == nil {
				t.Errorf("ParseReference(%q) = %v, want an error", bad, ref.DockerReference())
			}
		})
	}
}

func TestManifestOfSingleImage(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushImage(t, addr+"/team/app:1.4")

	for _, ref := range []string{pushed.Ref, pushed.DigestRef(), "docker://" + pushed.Ref} {
		t.Run(ref, func(t *testing.T) {
			img := open(t, ref, testOptions(t))
			m, err := img.Manifest(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Bytes, pushed.Manifest) || m.MIMEType != e2e.MediaTypeOCIManifest || m.Digest.String() != pushed.Digest {
				t.Errorf("Manifest = %s (%s, %s), want the pushed %s (%s)", m.Bytes, m.MIMEType, m.Digest, pushed.Manifest, pushed.Digest)
			}
			if m.IsIndex() {
				t.Error("IsIndex() = true for an image manifest")
			}
			if _, err := img.Instance(t.Context(), m, registry.Platform{}); err == nil {
				t.Error("Instance of an image manifest succeeded, want an error")
			}
		})
	}
	t.Run("Reference is the normalized docker reference", func(t *testing.T) {
		img := open(t, pushed.Ref, testOptions(t))
		if got := img.Reference().String(); got != pushed.Ref {
			t.Errorf("Reference() = %s, want %s", got, pushed.Ref)
		}
	})
}

func TestManifestOfIndex(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushIndex(t, addr+"/team/multi:2")
	img := open(t, pushed.Ref, testOptions(t))

	index, err := img.Manifest(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(index.Bytes, pushed.Manifest) || index.MIMEType != e2e.MediaTypeOCIIndex || index.Digest.String() != pushed.Digest || !index.IsIndex() {
		t.Fatalf("Manifest = %s (%s, %s), want the pushed index %s", index.Bytes, index.MIMEType, index.Digest, pushed.Digest)
	}
	for i, p := range e2e.IndexPlatforms {
		t.Run("Instance chooses "+p.OS+"/"+p.Architecture, func(t *testing.T) {
			m, err := img.Instance(t.Context(), index, registry.Platform{OS: p.OS, Architecture: p.Architecture, Variant: p.Variant})
			if err != nil {
				t.Fatal(err)
			}
			want := pushed.Instances[i]
			if !bytes.Equal(m.Bytes, want.Manifest) || m.Digest.String() != want.Digest || m.MIMEType != e2e.MediaTypeOCIManifest || m.IsIndex() {
				t.Errorf("Instance = %s (%s), want %s", m.Digest, m.MIMEType, want.Digest)
			}
		})
	}
	t.Run("Instance fails for a platform the index lacks", func(t *testing.T) {
		if m, err := img.Instance(t.Context(), index, registry.Platform{OS: "windows", Architecture: "amd64"}); err == nil {
			t.Errorf("Instance(windows/amd64) = %s, want an error", m.Digest)
		}
	})
	t.Run("InstanceByDigest fetches a listed instance, refuses another", func(t *testing.T) {
		for _, want := range pushed.Instances {
			m, err := img.InstanceByDigest(t.Context(), index, digest.Digest(want.Digest))
			if err != nil || !bytes.Equal(m.Bytes, want.Manifest) || m.Digest.String() != want.Digest {
				t.Errorf("InstanceByDigest(%s) = %s, %v; want the instance", want.Digest, m.Digest, err)
			}
		}
		other := e2e.PushImage(t, addr+"/team/multi:other")
		if m, err := img.InstanceByDigest(t.Context(), index, digest.Digest(other.Digest)); err == nil || !strings.Contains(err.Error(), "does not list") {
			t.Errorf("InstanceByDigest(unlisted %s) = %s, %v; want an error", other.Digest, m.Digest, err)
		}
	})
	t.Run("Instance fails when the chosen entry's manifest is missing", func(t *testing.T) {
		missing := e2e.Digest([]byte("no such manifest"))
		forged := index
		forged.Bytes = bytes.Replace(index.Bytes, []byte(pushed.Instances[0].Digest), []byte(missing), 1)
		if bytes.Equal(forged.Bytes, index.Bytes) {
			t.Fatal("test bug: index unchanged")
		}
		m, err := img.Instance(t.Context(), forged, registry.Platform{OS: "linux", Architecture: "amd64"})
		if err == nil || !strings.Contains(err.Error(), missing) {
			t.Errorf("Instance = %s, %v; want an error naming %s", m.Digest, err, missing)
		}
	})
}

func TestOpenFails(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	pushed := e2e.PushImage(t, addr+"/team/app:1.4")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	_ = l.Close()

	for _, tc := range []struct {
		name, ref string
		opts      func(*registry.Options)
		want      string
	}{
		{name: "when nothing listens", ref: closedAddr + "/team/app:1.4", want: "connection refused"},
		{name: "for a missing repository", ref: addr + "/team/nothing:1.4", want: "manifest unknown"},
		{name: "for a missing tag", ref: addr + "/team/app:9.9", want: "manifest unknown"},
		{name: "for a missing digest", ref: pushed.Repository + "@" + e2e.Digest([]byte("nothing")), want: "manifest unknown"},
		{name: "for plain HTTP without Insecure", ref: pushed.Ref, opts: func(o *registry.Options) { o.Insecure = false }, want: "http: server gave HTTP response to HTTPS client"},
		{name: "for a registry that registries.conf blocks", ref: pushed.Ref, opts: func(o *registry.Options) {
			o.RegistriesConf = emptyFile(t, "registries.conf", "[[registry]]\nlocation = \""+addr+"\"\nblocked = true\n")
		}, want: "blocked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			img, err := registry.Open(t.Context(), tc.ref, opts)
			if err == nil {
				_ = img.Close()
				t.Fatalf("Open(%s) succeeded, want an error", tc.ref)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Open(%s) = %v, want an error mentioning %q", tc.ref, err, tc.want)
			}
		})
	}
}
