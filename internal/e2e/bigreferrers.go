package e2e

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"testing"
)

// MediaTypeSigstoreBundle is the artifact and layer type cosign v3 gives a
// bundle referrer, which hosts read as a Sigstore bundle.
const MediaTypeSigstoreBundle = "application/vnd.dev.sigstore.bundle.v0.3+json"

// BigBlob is one 4 MiB JSON object (the largest bundle or attachment a host
// reads), pushed once and named by every hostile layer and referrer, as an
// attacker reuses one blob.
var BigBlob = func() []byte {
	data := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), 4<<20-8)...)
	return append(data, `"}`...)
}()

// PushBigReferrers stores n bundle referrers of img, each holding BigBlob,
// and returns their index entries (for PutReferrersTag): what anyone able to
// push to the repository can add next to its valid signatures.
func PushBigReferrers(t testing.TB, img Image, n int) []OCIDescriptor {
	t.Helper()
	layer := PutBlob(t, img.Repository, BigBlob)
	config := PutBlob(t, img.Repository, []byte("{}"))
	subject := OCIDescriptor{MediaType: cmp.Or(img.MIMEType, MediaTypeOCIManifest), Digest: img.Digest, Size: int64(len(img.Manifest))}
	entries := make([]OCIDescriptor, 0, n)
	for i := range n {
		m, err := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": MediaTypeOCIManifest, "artifactType": MediaTypeSigstoreBundle,
			"config":      OCIDescriptor{MediaType: "application/vnd.oci.empty.v1+json", Digest: config, Size: 2},
			"layers":      []OCIDescriptor{{MediaType: MediaTypeSigstoreBundle, Digest: layer, Size: int64(len(BigBlob))}},
			"subject":     subject,
			"annotations": map[string]string{"n": fmt.Sprint(i)},
		})
		if err != nil {
			t.Fatal(err)
		}
		d := PutManifest(t, img.Repository, Digest(m), MediaTypeOCIManifest, m)
		entries = append(entries, OCIDescriptor{MediaType: MediaTypeOCIManifest, ArtifactType: MediaTypeSigstoreBundle, Digest: d, Size: int64(len(m))})
	}
	return entries
}

// PutReferrersTag writes the referrers tag index of img (FallbackTag) with
// entries, replacing what is there.
func PutReferrersTag(t testing.TB, img Image, entries []OCIDescriptor) {
	t.Helper()
	data, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": MediaTypeOCIIndex, "manifests": entries})
	if err != nil {
		t.Fatal(err)
	}
	PutManifest(t, img.Repository, FallbackTag(img.Digest), MediaTypeOCIIndex, data)
}
