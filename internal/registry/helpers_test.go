package registry_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/registry"
)

// registriesD writes a registries.d directory holding one file with yaml.
func registriesD(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "test.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// testOptions talk plain HTTP to the loopback registry, with a registries.d
// that enables sigstore attachments everywhere and an empty registries.conf
// and auth file, so the host's configuration does not leak in.
func testOptions(t *testing.T) registry.Options {
	t.Helper()
	return registry.Options{
		Insecure:       true,
		RegistriesDir:  registriesD(t, "default-docker:\n  use-sigstore-attachments: true\n"),
		RegistriesConf: emptyFile(t, "registries.conf", ""),
		AuthFile:       emptyFile(t, "auth.json", "{}"),
	}
}

func emptyFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// open opens imageRef and closes it when the test ends; an error fails t.
func open(t *testing.T, imageRef string, opts registry.Options) *registry.Image {
	t.Helper()
	img, err := registry.Open(t.Context(), imageRef, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", imageRef, err)
	}
	t.Cleanup(func() { _ = img.Close() })
	return img
}

// bundlesOf is img.Bundles for d where registries.d enables sigstore
// attachments (testOptions): it must have looked.
func bundlesOf(t *testing.T, img *registry.Image, d digest.Digest) ([]registry.Bundle, error) {
	t.Helper()
	got, lookedFor, err := img.Bundles(t.Context(), d)
	if err == nil && !lookedFor {
		t.Fatalf("Bundles(%s) did not look, with use-sigstore-attachments on", d)
	}
	return got, err
}
