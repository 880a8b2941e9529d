package e2e_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

func TestStartRegistry(t *testing.T) {
	e2e.SkipIfShort(t)

	var addr string
	t.Run("answers /v2/ on loopback while the test runs", func(t *testing.T) {
		addr = e2e.StartRegistry(t, e2e.RegistryOptions{})
		resp, err := http.Get("http://" + addr + "/v2/")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /v2/: status %d, want 200", resp.StatusCode)
		}
		if got := resp.Header.Get("Docker-Distribution-Api-Version"); got != "registry/2.0" {
			t.Errorf("Docker-Distribution-Api-Version = %q, want registry/2.0", got)
		}
	})
	t.Run("is stopped by the test's cleanup", func(t *testing.T) {
		client := &http.Client{Timeout: 2 * time.Second}
		if resp, err := client.Get("http://" + addr + "/v2/"); err == nil {
			_ = resp.Body.Close()
			t.Fatalf("registry at %s still answers after its test ended", addr)
		}
	})
	t.Run("fails the test when the binary is missing", func(t *testing.T) {
		ft := &fatalRecorder{TB: t}
		func() {
			defer func() { _ = recover() }()
			e2e.StartRegistry(ft, e2e.RegistryOptions{Binary: filepath.Join(t.TempDir(), "no-such-registry")})
		}()
		if !ft.failed {
			t.Fatal("StartRegistry with a missing binary did not fail the test")
		}
	})
	t.Run("two registries get different ports", func(t *testing.T) {
		a := e2e.StartRegistry(t, e2e.RegistryOptions{})
		b := e2e.StartRegistry(t, e2e.RegistryOptions{})
		if a == b {
			t.Fatalf("both registries at %s", a)
		}
	})
}

// fatalRecorder is a testing.TB whose Fatal records the failure and stops the
// calling goroutine's helper with a panic (recovered by the caller).
type fatalRecorder struct {
	testing.TB
	failed bool
	msg    string
}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	f.msg = fmt.Sprintf(format, args...)
	panic("fatal")
}

func (f *fatalRecorder) Fatal(args ...any) {
	f.failed = true
	panic("fatal")
}

func TestToolPathFailsWithInstallHint(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CPS_TOOLS", t.TempDir())
	for _, tool := range []string{"cosign", "skopeo"} {
		t.Run(tool, func(t *testing.T) {
			ft := &fatalRecorder{TB: t}
			func() {
				defer func() { _ = recover() }()
				e2e.ToolPath(ft, tool)
			}()
			if !ft.failed {
				t.Fatalf("ToolPath(%q) with an empty PATH and tools cache did not fail", tool)
			}
			if !strings.Contains(ft.msg, "hack/install-deps.sh") {
				t.Errorf("failure message %q does not name hack/install-deps.sh", ft.msg)
			}
		})
	}
}

func TestToolPathFindsPinnedToolInCache(t *testing.T) {
	cache := t.TempDir()
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CPS_TOOLS", cache)
	// The version comes from hack/tools.env; a stale version must not be used.
	data, err := os.ReadFile("../../hack/tools.env")
	if err != nil {
		t.Fatal(err)
	}
	var version string
	for _, line := range bytes.Split(data, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("COSIGN_VERSION=")); ok {
			version = string(v)
		}
	}
	if version == "" {
		t.Fatal("hack/tools.env has no COSIGN_VERSION")
	}
	for _, v := range []string{"v0.0.1", version} {
		dir := filepath.Join(cache, "cosign-"+v)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "cosign"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	want := filepath.Join(cache, "cosign-"+version, "cosign")
	if got := e2e.ToolPath(t, "cosign"); got != want {
		t.Fatalf("ToolPath(cosign) = %s, want %s", got, want)
	}
}

func TestPushImage(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})

	img := e2e.PushImage(t, addr+"/team/app:1.4")

	if img.Digest != e2e.Digest(img.Manifest) {
		t.Errorf("Digest %s is not the digest of Manifest (%s)", img.Digest, e2e.Digest(img.Manifest))
	}
	for _, tagOrDigest := range []string{"1.4", img.Digest} {
		body, contentType := e2e.GetManifest(t, img.Repository, tagOrDigest)
		if !bytes.Equal(body, img.Manifest) {
			t.Errorf("manifest %s: registry has %s, pushed %s", tagOrDigest, body, img.Manifest)
		}
		if contentType != e2e.MediaTypeOCIManifest {
			t.Errorf("manifest %s: Content-Type %q, want %q", tagOrDigest, contentType, e2e.MediaTypeOCIManifest)
		}
	}
	m := e2e.ParseManifest(t, img.Manifest)
	if len(m.Layers) != 1 || m.Layers[0].MediaType != e2e.MediaTypeOCILayer || m.Config.MediaType != e2e.MediaTypeOCIConfig {
		t.Errorf("manifest is not a one-layer OCI image: %s", img.Manifest)
	}
	for _, d := range append([]e2e.OCIDescriptor{*m.Config}, m.Layers...) {
		if blob := e2e.GetBlob(t, img.Repository, d.Digest); e2e.Digest(blob) != d.Digest {
			t.Errorf("blob %s: registry returned content with digest %s", d.Digest, e2e.Digest(blob))
		}
	}
	if got := e2e.Tags(t, img.Repository); !slices.Equal(got, []string{"1.4"}) {
		t.Errorf("tags = %q, want [1.4]", got)
	}

	t.Run("a different reference gets a different digest", func(t *testing.T) {
		other := e2e.PushImage(t, addr+"/team/app:1.5")
		if other.Digest == img.Digest {
			t.Fatalf("1.4 and 1.5 share digest %s", img.Digest)
		}
	})
}

func TestPushIndex(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})

	img := e2e.PushIndex(t, addr+"/team/multi:2")

	body, contentType := e2e.GetManifest(t, img.Repository, "2")
	if !bytes.Equal(body, img.Manifest) || contentType != e2e.MediaTypeOCIIndex {
		t.Fatalf("index: registry has %s (%s), pushed %s", body, contentType, img.Manifest)
	}
	if img.Digest != e2e.Digest(body) {
		t.Errorf("Digest %s, registry's index has digest %s", img.Digest, e2e.Digest(body))
	}
	index := e2e.ParseManifest(t, body)
	if len(index.Manifests) != 2 || len(img.Instances) != 2 {
		t.Fatalf("index has %d manifests, Image has %d instances; want 2", len(index.Manifests), len(img.Instances))
	}
	for i, d := range index.Manifests {
		inst := img.Instances[i]
		if d.Digest != inst.Digest || d.Platform == nil || *d.Platform != e2e.IndexPlatforms[i] || inst.Platform != e2e.IndexPlatforms[i] {
			t.Errorf("index entry %d = %+v (platform %+v), want %s for %+v", i, d, d.Platform, inst.Digest, e2e.IndexPlatforms[i])
		}
		got, contentType := e2e.GetManifest(t, img.Repository, inst.Digest)
		if !bytes.Equal(got, inst.Manifest) || contentType != e2e.MediaTypeOCIManifest {
			t.Errorf("instance %d: registry has %s (%s), pushed %s", i, got, contentType, inst.Manifest)
		}
	}
	if img.Instances[0].Digest == img.Instances[1].Digest {
		t.Error("both platforms share one manifest")
	}
}
