package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// OCI media types used by the images these helpers build.
const (
	MediaTypeOCIManifest = "application/vnd.oci.image.manifest.v1+json"
	MediaTypeOCIIndex    = "application/vnd.oci.image.index.v1+json"
	MediaTypeOCIConfig   = "application/vnd.oci.image.config.v1+json"
	MediaTypeOCILayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// Platform names an OS/architecture pair in an index.
type Platform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant,omitempty"`
}

// Image is an image pushed to a test registry.
type Image struct {
	// Ref is the tagged reference it was pushed to, e.g. "127.0.0.1:5000/team/app:1".
	Ref string
	// Repository is Ref without the tag, e.g. "127.0.0.1:5000/team/app".
	Repository string
	// Digest is the digest of the top-level manifest (the index for PushIndex).
	Digest string
	// Manifest and MIMEType are the top-level manifest's exact bytes and type.
	Manifest []byte
	MIMEType string
	// Instances are the per-platform manifests of an index, in index order;
	// empty for a single image.
	Instances []Instance
}

// Instance is one per-platform manifest of an index.
type Instance struct {
	Platform Platform
	Digest   string
	Manifest []byte
}

// DigestRef is the image's reference by digest ("repo@sha256:...").
func (img Image) DigestRef() string { return img.Repository + "@" + img.Digest }

// InstanceRef is the reference by digest of instance i.
func (img Image) InstanceRef(i int) string { return img.Repository + "@" + img.Instances[i].Digest }

// Digest returns the "sha256:<hex>" digest of data.
func Digest(data []byte) string {
	sum := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// ociLayout writes an OCI image layout (blobs/sha256/..., index.json, oci-layout).
type ociLayout struct {
	t   testing.TB
	dir string
}

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int               `json:"size"`
	Platform    *Platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func newOCILayout(t testing.TB) *ociLayout {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return &ociLayout{t: t, dir: dir}
}

// blob stores data and returns its descriptor.
func (l *ociLayout) blob(mediaType string, data []byte) descriptor {
	l.t.Helper()
	d := Digest(data)
	path := filepath.Join(l.dir, "blobs", "sha256", strings.TrimPrefix(d, "sha256:"))
	if err := os.WriteFile(path, data, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return descriptor{MediaType: mediaType, Digest: d, Size: len(data)}
}

// jsonBlob stores v as JSON.
func (l *ociLayout) jsonBlob(mediaType string, v any) (descriptor, []byte) {
	l.t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		l.t.Fatal(err)
	}
	return l.blob(mediaType, data), data
}

// image stores a one-layer image whose only file, /content.txt, holds content,
// and returns the manifest's descriptor and bytes.
func (l *ociLayout) image(content string, p Platform) (descriptor, []byte) {
	l.t.Helper()
	layer, diffID := tarGz(l.t, "content.txt", []byte(content))
	layerDesc := l.blob(MediaTypeOCILayer, layer)
	configDesc, _ := l.jsonBlob(MediaTypeOCIConfig, map[string]any{
		"architecture": p.Architecture,
		"os":           p.OS,
		"variant":      p.Variant,
		"created":      "2026-01-01T00:00:00Z",
		"config":       map[string]any{"Cmd": []string{"/content.txt"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{diffID}},
	})
	return l.jsonBlob(MediaTypeOCIManifest, map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeOCIManifest,
		"config":        configDesc,
		"layers":        []descriptor{layerDesc},
	})
}

// tag writes index.json naming desc as "latest"; skopeo copies oci:DIR:latest.
func (l *ociLayout) tag(desc descriptor) string {
	l.t.Helper()
	desc.Annotations = map[string]string{"org.opencontainers.image.ref.name": "latest"}
	data, err := json.Marshal(map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeOCIIndex,
		"manifests":     []descriptor{desc},
	})
	if err != nil {
		l.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.dir, "index.json"), data, 0o644); err != nil {
		l.t.Fatal(err)
	}
	return "oci:" + l.dir + ":latest"
}

// tarGz returns a gzipped tarball holding one file, and the layer's diff ID
// (the digest of the uncompressed tarball). Output is deterministic.
func tarGz(t testing.TB, name string, content []byte) (layer []byte, diffID string) {
	t.Helper()
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(content)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
	if err := tw.WriteHeader(hdr); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(tarball.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return gz.Bytes(), Digest(tarball.Bytes())
}

// splitTag splits "host/repo:tag" into "host/repo" and "tag".
func splitTag(t testing.TB, ref string) (repo, tag string) {
	t.Helper()
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") || strings.Contains(ref, "@") {
		t.Fatalf("e2e: %q is not REGISTRY/REPO:TAG", ref)
	}
	return ref[:i], ref[i+1:]
}

// push copies src to docker://ref with skopeo, keeping digests.
func push(t testing.TB, src, ref string) {
	t.Helper()
	Skopeo(t, "--insecure-policy", "--registries.d", t.TempDir(),
		"copy", "--quiet", "--all", "--preserve-digests", "--dest-tls-verify=false",
		src, "docker://"+ref)
}

// PushImage builds a small single-platform (linux/amd64) OCI image and pushes
// it with skopeo to ref ("127.0.0.1:PORT/repo:tag" on a StartRegistry
// registry). Its one layer holds ref itself, so every ref gets its own digest.
func PushImage(t testing.TB, ref string) Image {
	t.Helper()
	repo, _ := splitTag(t, ref)
	l := newOCILayout(t)
	desc, manifest := l.image("image "+ref+"\n", Platform{OS: "linux", Architecture: "amd64"})
	push(t, l.tag(desc), ref)
	return Image{Ref: ref, Repository: repo, Digest: desc.Digest, Manifest: manifest, MIMEType: MediaTypeOCIManifest}
}

// IndexPlatforms are the platforms of PushIndex's images, in index order.
var IndexPlatforms = []Platform{
	{OS: "linux", Architecture: "amd64"},
	{OS: "linux", Architecture: "arm64", Variant: "v8"},
}

// PushIndex builds a multi-platform OCI image (an index of IndexPlatforms) and
// pushes it, index and instances, with skopeo to ref.
func PushIndex(t testing.TB, ref string) Image {
	t.Helper()
	return pushOCIIndex(t, ref, IndexPlatforms)
}

// pushOCIIndex pushes an OCI index of one image per platform, in that order,
// with skopeo to ref.
func pushOCIIndex(t testing.TB, ref string, platforms []Platform) Image {
	t.Helper()
	repo, _ := splitTag(t, ref)
	l := newOCILayout(t)
	var instances []Instance
	var descs []descriptor
	for _, p := range platforms {
		desc, manifest := l.image("image "+ref+" for "+platformString(p)+"\n", p)
		desc.Platform = &p
		descs = append(descs, desc)
		instances = append(instances, Instance{Platform: p, Digest: desc.Digest, Manifest: manifest})
	}
	desc, index := l.jsonBlob(MediaTypeOCIIndex, map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeOCIIndex,
		"manifests":     descs,
	})
	push(t, l.tag(desc), ref)
	return Image{Ref: ref, Repository: repo, Digest: desc.Digest, Manifest: index, MIMEType: MediaTypeOCIIndex, Instances: instances}
}
