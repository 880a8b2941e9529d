package protocol

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.podman.io/image/v5/manifest"
)

// containersImageIsList is the answer IsManifestList must give.
func containersImageIsList(m []byte) bool {
	return manifest.MIMETypeIsMultiImage(manifest.GuessMIMEType(m))
}

// manifestListCases are manifests at every branch of containers/image's guess,
// and its own test data.
func manifestListCases(t testing.TB) map[string][]byte {
	cases := map[string]string{
		"an OCI index":                           `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`,
		"a Docker list":                          `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}`,
		"an OCI manifest":                        `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`,
		"a Docker manifest":                      `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}`,
		"an index without mediaType":             `{"schemaVersion":2,"manifests":[{"digest":"sha256:00","size":1}]}`,
		"an empty index without mediaType":       `{"schemaVersion":2,"manifests":[]}`,
		"an index with a wrong-typed size":       `{"schemaVersion":2,"manifests":[{"digest":"sha256:00","size":"1"}]}`,
		"an index with a wrong-typed platform":   `{"schemaVersion":2,"manifests":[{"digest":"sha256:00","platform":{"os":1}}]}`,
		"an index with base64 data":              `{"schemaVersion":2,"manifests":[{"digest":"sha256:00","data":"e30="}]}`,
		"an index with bad base64 data":          `{"schemaVersion":2,"manifests":[{"digest":"sha256:00","data":"%%"}]}`,
		"an OCI manifest without mediaType":      `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json"},"manifests":[{}]}`,
		"a Docker manifest without mediaType":    `{"schemaVersion":2,"config":{"mediaType":"application/vnd.docker.container.image.v1+json"},"manifests":[{}]}`,
		"a config claiming to be an index":       `{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.index.v1+json"},"manifests":[{}]}`,
		"an artifact config with manifests":      `{"schemaVersion":2,"config":{"mediaType":"application/x-thing"},"manifests":[{}]}`,
		"an index with an unknown mediaType":     `{"schemaVersion":2,"mediaType":"application/x-list","manifests":[{}]}`,
		"a mediaType key in another case":        `{"schemaVersion":2,"MediaType":"application/vnd.oci.image.index.v1+json"}`,
		"two mediaType keys, the last an index":  `{"mediaType":"application/vnd.oci.image.manifest.v1+json","mediaType":"application/vnd.oci.image.index.v1+json"}`,
		"two mediaType keys, the first an index": `{"mediaType":"application/vnd.oci.image.index.v1+json","mediaType":"application/vnd.oci.image.manifest.v1+json"}`,
		"schema 1":                               `{"schemaVersion":1,"manifests":[{}]}`,
		"schema 3":                               `{"schemaVersion":3,"manifests":[{}]}`,
		"schemaVersion a string":                 `{"schemaVersion":"2","manifests":[{}]}`,
		"not JSON":                               `not JSON`,
		"a JSON array":                           `[]`,
		"mediaType not a string":                 `{"mediaType":1}`,
	}
	out := map[string][]byte{}
	for name, m := range cases {
		out[name] = []byte(m)
	}
	files, _ := filepath.Glob(filepath.Join(manifestTestdata(t), "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out["containers/image "+filepath.Base(f)] = data
	}
	return out
}

// manifestTestdata is containers/image's own manifest test data, when the
// module's sources are at hand (they are in the module cache once it is built).
func manifestTestdata(t testing.TB) string {
	dir, err := moduleDir("go.podman.io/image/v5")
	if err != nil {
		t.Logf("containers/image's test data not used: %v", err)
		return ""
	}
	return filepath.Join(dir, "internal", "manifest", "testdata")
}

// TestIsManifestListIsContainersImages: the decoder's list rule gives
// containers/image's answer for every manifest.
func TestIsManifestListIsContainersImages(t *testing.T) {
	lists := 0
	for name, m := range manifestListCases(t) {
		want := containersImageIsList(m)
		if want {
			lists++
		}
		if got := IsManifestList(m); got != want {
			t.Errorf("%s: IsManifestList %v, containers/image %v (%q)", name, got, want, manifest.GuessMIMEType(m))
		}
	}
	if lists < 5 {
		t.Fatalf("only %d of the cases are lists", lists)
	}
}

func FuzzIsManifestList(f *testing.F) {
	for _, m := range manifestListCases(f) {
		f.Add(m)
	}
	f.Fuzz(func(t *testing.T, m []byte) {
		if got, want := IsManifestList(m), containersImageIsList(m); got != want {
			t.Fatalf("IsManifestList %v, containers/image %v for %q", got, want, m)
		}
	})
}

func moduleDir(module string) (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
