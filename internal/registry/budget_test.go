package registry_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

const mib = 1 << 20

// bigPayload is one 4 MiB attachment payload or bundle, shared by every
// layer and referrer that names it, as an attacker would reuse one blob.
var bigPayload = func() []byte {
	data := append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), 4*mib-8)...)
	return append(data, `"}`...)
}()

// withBigSigLayers routes a .sig manifest for d whose n layers all name
// bigPayload, then one small layer, and returns the small layer's payload.
func (h *hostileRegistry) withBigSigLayers(t *testing.T, d digest.Digest, n int) []byte {
	t.Helper()
	small := []byte(`{"critical":{"identity":{"docker-reference":"x"}}}`)
	layers := make([]sigLayer, 0, n+1)
	for range n {
		layers = append(layers, sigLayer{payload: bigPayload})
	}
	layers = append(layers, sigLayer{payload: small})
	h.route("/v2/team/app/manifests/"+sigTagOf(d), serveBytes(ociManifest, sigManifest(t, layers...)))
	h.route("/v2/team/app/blobs/"+digest.FromBytes(bigPayload).String(), serveBytes("application/octet-stream", bigPayload))
	h.route("/v2/team/app/blobs/"+digest.FromBytes(small).String(), serveBytes("application/octet-stream", small))
	return small
}

// 40 attachments of 4 MiB (160 MiB, read whole by containers/image) and a
// small one after them: the budget takes what one request can carry, in
// order, reads nothing else, and the small one still fits.
func TestAttachmentsPastTheBudgetAreLeftOutUnread(t *testing.T) {
	h := newHostileRegistry(t)
	d := h.withImage()
	small := h.withBigSigLayers(t, d, 40)
	img := open(t, h.addr+"/team/app:1.4", hostileOptions(t))

	var sigs *registry.Signatures
	var err error
	peak := e2e.HeapPeak(t, func() { sigs, err = img.Signatures(t.Context(), d, protocol.NewSignatureBudget(0)) })
	if err != nil {
		t.Fatal(err)
	}
	taken := len(sigs.Attachments)
	perLayer := protocol.AttachmentCost(simpleSigningMIMEType, int64(len(bigPayload)), map[string]string{"dev.cosignproject.cosign/signature": "c2ln"})
	if want := int(protocol.MaxRequestBytes/perLayer) + 1; taken != want {
		t.Errorf("took %d attachments, want %d (the big ones that fit, then the small one)", taken, want)
	}
	if last := sigs.Attachments[taken-1]; !bytes.Equal(last.Payload, small) {
		t.Errorf("the last attachment taken is not the small one after the big ones")
	}
	if sigs.AttachmentsLeftOut != 41-taken {
		t.Errorf("left out %d, want %d", sigs.AttachmentsLeftOut, 41-taken)
	}
	if n := h.count("/v2/team/app/blobs/" + digest.FromBytes(bigPayload).String()); n != taken-1 {
		t.Errorf("the big blob was read %d times, want %d: what is left out must not be read", n, taken-1)
	}
	t.Logf("%d of 41 attachments taken, %d left out unread; heap peak +%d MiB", taken, sigs.AttachmentsLeftOut, peak/mib)
	if peak > 100*mib {
		t.Errorf("heap peak +%d MiB reading %d MiB of attachments, want at most 100", peak/mib, (taken-1)*4)
	}
}

// referrerManifest is an OCI referrer of subject holding one bundle layer.
func referrerManifest(t *testing.T, subject digest.Digest, layer []byte, note int) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": ociManifest, "artifactType": bundleV03,
		"config":      map[string]any{"mediaType": "application/vnd.oci.empty.v1+json", "digest": digest.FromString("{}"), "size": 2},
		"layers":      []map[string]any{{"mediaType": bundleV03, "digest": digest.FromBytes(layer), "size": len(layer)}},
		"subject":     map[string]any{"mediaType": ociManifest, "digest": subject, "size": len(testImageManifest)},
		"annotations": map[string]string{"n": fmt.Sprint(note)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// withBigReferrers routes n bundle referrers of 4 MiB for d, the small
// bundle small at position at (or none when at < 0), as the referrers API.
func (h *hostileRegistry) withBigReferrers(t *testing.T, d digest.Digest, n, at int, small []byte) {
	t.Helper()
	h.route("/v2/team/app/blobs/"+digest.FromBytes(bigPayload).String(), serveBytes("application/octet-stream", bigPayload))
	h.route("/v2/team/app/blobs/"+digest.FromBytes(small).String(), serveBytes("application/octet-stream", small))
	var layers [][]byte
	for i := range n {
		if i == at {
			layers = append(layers, small)
		}
		layers = append(layers, bigPayload)
	}
	var entries []map[string]any
	for i, layer := range layers {
		m := referrerManifest(t, d, layer, i)
		md := digest.FromBytes(m)
		h.route("/v2/team/app/manifests/"+md.String(), serveBytes(ociManifest, m))
		entries = append(entries, map[string]any{"mediaType": ociManifest, "artifactType": bundleV03, "digest": md, "size": len(m)})
	}
	index, err := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries})
	if err != nil {
		t.Fatal(err)
	}
	h.route("/v2/team/app/referrers/"+d.String(), serveBytes("application/vnd.oci.image.index.v1+json", index))
}

// 17 referrers of 4 MiB next to a small attachment: the attachment is taken
// first, the referrers that do not fit are left out, and nothing fails.
func TestBigReferrersDoNotCrowdOutAnAttachment(t *testing.T) {
	h := newHostileRegistry(t)
	d := h.withImage()
	small := h.withBigSigLayers(t, d, 0)
	h.withBigReferrers(t, d, 17, -1, nil)
	img := open(t, h.addr+"/team/app:1.4", hostileOptions(t))
	sigs, err := img.Signatures(t.Context(), d, protocol.NewSignatureBudget(0))
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs.Attachments) != 1 || !bytes.Equal(sigs.Attachments[0].Payload, small) {
		t.Fatalf("attachments %d, want the one", len(sigs.Attachments))
	}
	if len(sigs.Bundles)+sigs.BundlesLeftOut != 17 || sigs.BundlesLeftOut == 0 {
		t.Errorf("%d bundles taken, %d left out; want 17 in all, some left out", len(sigs.Bundles), sigs.BundlesLeftOut)
	}
	if n := h.count("/v2/team/app/blobs/" + digest.FromBytes(bigPayload).String()); n != len(sigs.Bundles) {
		t.Errorf("the big bundle was read %d times, %d taken", n, len(sigs.Bundles))
	}
}

// 100 referrers of 4 MiB with a small bundle among them: the small one is
// still taken, memory stays bounded.
func TestAValidBundleAmongAHundredBigReferrersIsKept(t *testing.T) {
	h := newHostileRegistry(t)
	d := h.withImage()
	small := []byte(validBundle)
	h.withBigReferrers(t, d, 100, 60, small)
	img := open(t, h.addr+"/team/app:1.4", hostileOptions(t))
	var sigs *registry.Signatures
	var err error
	peak := e2e.HeapPeak(t, func() { sigs, err = img.Signatures(t.Context(), d, protocol.NewSignatureBudget(0)) })
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range sigs.Bundles {
		found = found || bytes.Equal(b.JSON, small)
	}
	if !found {
		t.Errorf("the small bundle at position 60 was left out (%d taken, %d left out)", len(sigs.Bundles), sigs.BundlesLeftOut)
	}
	if len(sigs.Bundles)+sigs.BundlesLeftOut != 101 {
		t.Errorf("%d taken + %d left out, want 101", len(sigs.Bundles), sigs.BundlesLeftOut)
	}
	t.Logf("%d of 101 bundles taken; heap peak +%d MiB", len(sigs.Bundles), peak/mib)
	if peak > 100*mib {
		t.Errorf("heap peak +%d MiB, want at most 100", peak/mib)
	}
}

// streamIndex writes a referrers index of about size bytes without holding
// it: an attacker's 99 MiB answer.
func streamIndex(w http.ResponseWriter, size int) {
	_, _ = w.Write([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`))
	entry := []byte(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/x","digest":"sha256:` + strings.Repeat("0", 64) + `","size":1},`)
	for written := 0; written < size; written += len(entry) {
		if _, err := w.Write(entry); err != nil {
			return
		}
	}
	_, _ = w.Write([]byte(`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:` + strings.Repeat("0", 64) + `","size":1}]}`))
}

func TestHugeReferrersIndexIsLeftOutUnread(t *testing.T) {
	const size = 99 * mib
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	streamIndex(writerOnly{zw}, size)
	_ = zw.Close()
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"99 MiB, chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
			streamIndex(w, size)
		}},
		{"99 MiB, with its Content-Length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
			w.Header().Set("Content-Length", fmt.Sprint(size))
			streamIndex(w, size)
		}},
		{fmt.Sprintf("a gzip bomb (%d KiB to 99 MiB)", bomb.Len()>>10), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(bomb.Bytes())
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHostileRegistry(t)
			d := h.withImage()
			h.withBigSigLayers(t, d, 0)
			h.route("/v2/team/app/referrers/"+d.String(), tc.handler)
			img := open(t, h.addr+"/team/app:1.4", hostileOptions(t))
			var sigs *registry.Signatures
			var err error
			peak := e2e.HeapPeak(t, func() { sigs, err = img.Signatures(t.Context(), d, protocol.NewSignatureBudget(0)) })
			// Left out, not an error: the attachment next to it still counts.
			if err != nil || !sigs.ReferrersIndexLeftOut || len(sigs.Attachments) != 1 {
				t.Fatalf("Signatures = %+v, %v; want the index left out and the attachment read", sigs, err)
			}
			t.Logf("heap peak +%d MiB", peak/mib)
			if peak > 32*mib {
				t.Errorf("heap peak +%d MiB for a refused index, want at most 32", peak/mib)
			}
		})
	}
}

type writerOnly struct {
	w interface{ Write([]byte) (int, error) }
}

func (w writerOnly) Header() http.Header         { return http.Header{} }
func (w writerOnly) Write(p []byte) (int, error) { return w.w.Write(p) }
func (w writerOnly) WriteHeader(int)             {}

// A manifest is containers/image's to read, with its own 4 MiB limit; a 99
// MiB one is refused without being held.
func TestHugeManifestIsRefusedUnread(t *testing.T) {
	h := newHostileRegistry(t)
	h.route("/v2/team/app/manifests/1.4", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ociManifest)
		streamIndex(w, 99*mib)
	})
	var err error
	peak := e2e.HeapPeak(t, func() {
		var img *registry.Image
		img, err = registry.Open(t.Context(), h.addr+"/team/app:1.4", hostileOptions(t))
		if err == nil {
			_, err = img.Manifest(t.Context())
			_ = img.Close()
		}
	})
	if err == nil || !strings.Contains(err.Error(), "manifest") {
		t.Errorf("a 99 MiB manifest: %v, want an error about the manifest", err)
	}
	t.Logf("error %v; heap peak +%d MiB", err, peak/mib)
	if peak > 32*mib {
		t.Errorf("heap peak +%d MiB for a refused manifest, want at most 32", peak/mib)
	}
}

// A request about an instance chosen from an index offers the index's
// attachments between the instance's attachments and its bundles: what
// between takes is no longer there for the bundles, which are then left out
// unread, while the attachment offered before was taken.
func TestSignaturesAroundOffersBetweenAttachmentsAndBundles(t *testing.T) {
	h := newHostileRegistry(t)
	d := h.withImage()
	small := h.withBigSigLayers(t, d, 0)
	h.withBigReferrers(t, d, 3, -1, nil)
	img := open(t, h.addr+"/team/app:1.4", hostileOptions(t))
	budget := protocol.NewSignatureBudget(0)
	var takenBefore int
	sigs, err := img.SignaturesAround(t.Context(), d, budget, nil, func(context.Context) error {
		// What the index's attachments would take: the room the
		// instance's attachment left, all of it.
		takenBefore = protocol.MaxSignatures - 1
		for range takenBefore {
			if !budget.Take(1) {
				t.Error("between: the instance's attachment took more than one entry")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs.Attachments) != 1 || !bytes.Equal(sigs.Attachments[0].Payload, small) {
		t.Fatalf("%d attachments, want the one, offered before between", len(sigs.Attachments))
	}
	if takenBefore == 0 {
		t.Fatal("between was not called")
	}
	if len(sigs.Bundles) != 0 || sigs.BundlesLeftOut != 3 {
		t.Errorf("%d bundles taken, %d left out; want 0 and 3: between came first", len(sigs.Bundles), sigs.BundlesLeftOut)
	}
	if n := h.count("/v2/team/app/blobs/" + digest.FromBytes(bigPayload).String()); n != 0 {
		t.Errorf("the bundle blob was read %d times: what is left out must not be read", n)
	}

	t.Run("an error from between is the error", func(t *testing.T) {
		want := errors.New("the index's signatures could not be read")
		if _, err := img.SignaturesAround(t.Context(), d, protocol.NewSignatureBudget(0), nil, func(context.Context) error { return want }); !errors.Is(err, want) {
			t.Errorf("err %v, want %v", err, want)
		}
	})
}
