package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"testing"
)

// Helpers that write to a test registry over plain HTTP with the
// distribution API, to plant content no tool would write (malformed or
// hostile signatures, many referrers).

// PutBlob uploads data as a blob of repository in one request and returns
// its digest.
func PutBlob(t testing.TB, repository string, data []byte) string {
	t.Helper()
	host, path := splitRepository(t, repository)
	resp, err := inspectClient.Post("http://"+host+"/v2/"+path+"/blobs/uploads/", "", nil)
	if err != nil {
		t.Fatalf("e2e: starting blob upload to %s: %v", repository, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("e2e: starting blob upload to %s: status %d", repository, resp.StatusCode)
	}
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("e2e: blob upload to %s: %v", repository, err)
	}
	d := Digest(data)
	q := loc.Query()
	q.Set("digest", d)
	loc.RawQuery = q.Encode()
	put(t, loc, "application/octet-stream", data, http.StatusCreated)
	return d
}

// PutManifest stores data with mediaType as manifest tagOrDigest of
// repository and returns its digest.
func PutManifest(t testing.TB, repository, tagOrDigest, mediaType string, data []byte) string {
	t.Helper()
	host, path := splitRepository(t, repository)
	u, err := url.Parse("http://" + host + "/v2/" + path + "/manifests/" + tagOrDigest)
	if err != nil {
		t.Fatal(err)
	}
	put(t, u, mediaType, data, http.StatusCreated)
	return Digest(data)
}

func put(t testing.TB, u *url.URL, contentType string, data []byte, want int) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, u.String(), bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := inspectClient.Do(req)
	if err != nil {
		t.Fatalf("e2e: PUT %s: %v", u, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != want {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		t.Fatalf("e2e: PUT %s: status %d, want %d: %s", u, resp.StatusCode, want, body)
	}
}

// DeleteManifest deletes manifest digest of repository (StartRegistry's
// registries allow deletes).
func DeleteManifest(t testing.TB, repository, digest string) {
	t.Helper()
	host, path := splitRepository(t, repository)
	req, err := http.NewRequest(http.MethodDelete, "http://"+host+"/v2/"+path+"/manifests/"+digest, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := inspectClient.Do(req)
	if err != nil {
		t.Fatalf("e2e: DELETE %s: %v", req.URL, err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("e2e: DELETE %s: status %d, want 202", req.URL, resp.StatusCode)
	}
}
