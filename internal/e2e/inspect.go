package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Helpers that read a test registry over plain HTTP with the distribution
// API, to assert on exactly what tools stored there.

var inspectClient = &http.Client{Timeout: 30 * time.Second}

// splitRepository splits "127.0.0.1:PORT/team/app" into host and repository path.
func splitRepository(t testing.TB, repository string) (host, path string) {
	t.Helper()
	host, path, ok := strings.Cut(repository, "/")
	if !ok || path == "" {
		t.Fatalf("e2e: %q is not REGISTRY/REPO", repository)
	}
	return host, path
}

// get fetches http://host/v2/<path> and returns the body and Content-Type;
// a status other than 200 fails t.
func get(t testing.TB, host, path string, accept ...string) ([]byte, string) {
	t.Helper()
	body, contentType, status := getStatus(t, host, path, accept...)
	if status != http.StatusOK {
		t.Fatalf("e2e: GET http://%s/v2/%s: status %d: %s", host, path, status, body)
	}
	return body, contentType
}

// getStatus is get that returns the status instead of failing on it.
func getStatus(t testing.TB, host, path string, accept ...string) ([]byte, string, int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://"+host+"/v2/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := inspectClient.Do(req)
	if err != nil {
		t.Fatalf("e2e: GET %s: %v", req.URL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		t.Fatalf("e2e: GET %s: %v", req.URL, err)
	}
	return body, resp.Header.Get("Content-Type"), resp.StatusCode
}

// Tags lists the tags of repository ("127.0.0.1:PORT/team/app"), sorted.
func Tags(t testing.TB, repository string) []string {
	t.Helper()
	host, path := splitRepository(t, repository)
	body, _ := get(t, host, path+"/tags/list")
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatalf("e2e: tags of %s: %v", repository, err)
	}
	slices.Sort(list.Tags)
	return list.Tags
}

// ManifestAccept is every manifest type a test may ask for.
var ManifestAccept = []string{
	MediaTypeOCIManifest, MediaTypeOCIIndex,
	"application/vnd.docker.distribution.manifest.v2+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
}

// GetManifest fetches the manifest tagOrDigest of repository and returns its
// bytes and Content-Type. A missing manifest fails t.
func GetManifest(t testing.TB, repository, tagOrDigest string) ([]byte, string) {
	t.Helper()
	host, path := splitRepository(t, repository)
	return get(t, host, path+"/manifests/"+tagOrDigest, ManifestAccept...)
}

// ManifestStatus returns the HTTP status of GET manifest tagOrDigest (200, 404, ...).
func ManifestStatus(t testing.TB, repository, tagOrDigest string) int {
	t.Helper()
	host, path := splitRepository(t, repository)
	_, _, status := getStatus(t, host, path+"/manifests/"+tagOrDigest, ManifestAccept...)
	return status
}

// GetBlob fetches blob digest of repository.
func GetBlob(t testing.TB, repository, digest string) []byte {
	t.Helper()
	host, path := splitRepository(t, repository)
	body, _ := get(t, host, path+"/blobs/"+digest)
	return body
}

// ReferrersAPIStatus returns the HTTP status of GET /v2/<repo>/referrers/<digest>:
// 404 on a registry without the OCI referrers API (distribution 2.8 and 3.x).
func ReferrersAPIStatus(t testing.TB, repository, digest string) int {
	t.Helper()
	host, path := splitRepository(t, repository)
	_, _, status := getStatus(t, host, path+"/referrers/"+digest, MediaTypeOCIIndex)
	return status
}

// GetReferrers fetches GET /v2/<repo>/referrers/<digest> and returns the body
// and Content-Type; a status other than 200 fails t.
func GetReferrers(t testing.TB, repository, digest string) ([]byte, string) {
	t.Helper()
	host, path := splitRepository(t, repository)
	return get(t, host, path+"/referrers/"+digest, MediaTypeOCIIndex)
}

// FallbackTag is the OCI referrers tag schema tag for digest: "sha256-<hex>".
func FallbackTag(digest string) string { return strings.Replace(digest, ":", "-", 1) }

// SigTag is cosign's legacy signature tag for digest: "sha256-<hex>.sig".
func SigTag(digest string) string { return FallbackTag(digest) + ".sig" }

// OCIDescriptor is a descriptor as found in manifests and indexes.
type OCIDescriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	Platform     *Platform         `json:"platform,omitempty"`
}

// OCIManifest is an OCI image manifest or index, with the fields tests look at.
type OCIManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	ArtifactType  string            `json:"artifactType,omitempty"`
	Config        *OCIDescriptor    `json:"config,omitempty"`
	Layers        []OCIDescriptor   `json:"layers,omitempty"`
	Manifests     []OCIDescriptor   `json:"manifests,omitempty"`
	Subject       *OCIDescriptor    `json:"subject,omitempty"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

// ParseManifest decodes an OCI manifest or index; malformed JSON fails t.
func ParseManifest(t testing.TB, data []byte) OCIManifest {
	t.Helper()
	var m OCIManifest
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("e2e: parsing manifest %s: %v", data, err)
	}
	return m
}
