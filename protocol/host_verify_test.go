package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func testVerifyRequest(config string) *VerifyRequest {
	ref := "registry.example.com/team/app:1.4"
	return &VerifyRequest{
		Config: json.RawMessage(config),
		Image: Image{
			Transport:        "docker",
			DockerReference:  &ref,
			Manifest:         []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`),
			ManifestMIMEType: "application/vnd.oci.image.manifest.v1+json",
		},
		Signatures: []Signature{
			{
				Format: FormatSigstoreJSON, MIMEType: "application/vnd.dev.cosign.simplesigning.v1+json",
				Payload: []byte(`{"critical":{}}`), Annotations: map[string]string{"dev.cosignproject.cosign/signature": "MEUC"},
			},
			{
				Format: FormatSigstoreBundle, MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
				Bundle: json.RawMessage(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`),
			},
		},
	}
}

const (
	acceptConfig      = `{"accept":true}`
	rejectConfig      = `{"accept":false}`
	acceptIndexConfig = `{"acceptIndex":true}`
)

// testIndexManifest is an image index listing testVerifyRequest's manifest.
func testIndexManifest(instance []byte) []byte {
	return []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + ManifestDigest(instance) + `","size":` + fmt.Sprint(len(instance)) + `}]}`)
}

// testVerifyRequestWithIndex is testVerifyRequest for an instance chosen from
// an index, with the index's two signatures.
func testVerifyRequestWithIndex(config string) *VerifyRequest {
	req := testVerifyRequest(config)
	req.Image.Index = &Index{
		Manifest:         testIndexManifest(req.Image.Manifest),
		ManifestMIMEType: MediaTypeOCIImageIndex,
		Signatures:       testVerifyRequest(config).Signatures,
	}
	return req
}

func TestVerifyBelievesAWellFormedAnswer(t *testing.T) {
	h, _ := installPlugin(t, "good")
	req := testVerifyRequest(acceptConfig)

	t.Run("an accept verdict is an accepted decision", func(t *testing.T) {
		d, err := h.Verify(context.Background(), "good", req)
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if !d.Accepted || d.Response == nil || d.Response.Accepted == nil {
			t.Fatalf("decision %+v, want accepted with the response", d)
		}
		if want := "signature 0 accepted: subject https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"; d.Reason != want {
			t.Errorf("reason %q, want %q", d.Reason, want)
		}
		if d.ManifestDigest != ManifestDigest(req.Image.Manifest) || d.Response.ManifestDigest != d.ManifestDigest {
			t.Errorf("manifest digest %q (plugin %q), want %q", d.ManifestDigest, d.Response.ManifestDigest, ManifestDigest(req.Image.Manifest))
		}
	})
	t.Run("a reject verdict is a rejected decision without an error", func(t *testing.T) {
		d, err := h.Verify(context.Background(), "good", testVerifyRequest(rejectConfig))
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
		if d.Accepted || d.Response == nil || d.Reason != "no signature accepted" {
			t.Errorf("decision %+v, want rejected with reason %q", d, "no signature accepted")
		}
	})
	t.Run("the host generates a requestID and leaves the caller's request alone", func(t *testing.T) {
		d, err := h.Verify(context.Background(), "good", req)
		if err != nil {
			t.Fatal(err)
		}
		if req.RequestID != nil || req.APIVersion != "" {
			t.Errorf("caller's request modified: requestID %v, apiVersion %q", req.RequestID, req.APIVersion)
		}
		if d.Response.RequestID == nil || len(*d.Response.RequestID) != 36 {
			t.Errorf("echoed requestID %v, want a generated UUID", d.Response.RequestID)
		}
	})
	t.Run("the caller's requestID is sent and checked", func(t *testing.T) {
		withID := *req
		id := "6f1c1f9e-0d1c-4b8e-9a55-3f6a1c1c2b7e"
		withID.RequestID = &id
		d, err := h.Verify(context.Background(), "good", &withID)
		if err != nil || *d.Response.RequestID != id {
			t.Errorf("Verify: %v, echoed %v, want %q", err, d.Response.RequestID, id)
		}
	})
	t.Run("no signatures are sent as an empty list", func(t *testing.T) {
		none := testVerifyRequest(acceptConfig)
		none.Signatures = nil
		d, err := h.Verify(context.Background(), "good", none)
		if err != nil || d.Accepted || d.Response == nil || len(d.Response.Signatures) != 0 {
			t.Errorf("Verify: %+v, %v; want a well-formed reject with no signature results", d, err)
		}
	})
	t.Run("an accept through the index is believed, and both digests are the host's", func(t *testing.T) {
		withIndex := testVerifyRequestWithIndex(acceptIndexConfig)
		d, err := h.Verify(context.Background(), "good", withIndex)
		if err != nil || !d.Accepted || d.Response.Accepted.Via != AcceptedViaIndex {
			t.Fatalf("Verify: %+v, %v; want accepted via the index", d, err)
		}
		if want := ManifestDigest(withIndex.Image.Index.Manifest); d.IndexDigest != want || d.Response.IndexDigest != want {
			t.Errorf("index digest %q (plugin %q), want %q", d.IndexDigest, d.Response.IndexDigest, want)
		}
		if d.ManifestDigest != ManifestDigest(withIndex.Image.Manifest) || len(d.Response.IndexSignatures) != 2 {
			t.Errorf("decision %+v, want the instance's digest and two index results", d)
		}
	})
	t.Run("an accept of the instance with an index sent is believed", func(t *testing.T) {
		d, err := h.Verify(context.Background(), "good", testVerifyRequestWithIndex(acceptConfig))
		if err != nil || !d.Accepted || d.Response.Accepted.Via != AcceptedViaImage || d.IndexDigest == "" {
			t.Fatalf("Verify: %+v, %v; want accepted via the image", d, err)
		}
	})
	t.Run("an index without signatures is sent with an empty list, and the caller's index is left alone", func(t *testing.T) {
		none := testVerifyRequestWithIndex(acceptIndexConfig)
		none.Image.Index.Signatures = nil
		d, err := h.Verify(context.Background(), "good", none)
		if err != nil || d.Accepted || d.Response == nil || d.Response.IndexSignatures == nil || len(d.Response.IndexSignatures) != 0 {
			t.Fatalf("Verify: %+v, %v; want a well-formed reject with an empty indexSignatures", d, err)
		}
		if none.Image.Index.Signatures != nil {
			t.Errorf("caller's index modified: %+v", none.Image.Index)
		}
	})
	t.Run("a reject with an index keeps both digests", func(t *testing.T) {
		withIndex := testVerifyRequestWithIndex(rejectConfig)
		d, err := h.Verify(context.Background(), "good", withIndex)
		if err != nil || d.Accepted || d.IndexDigest != ManifestDigest(withIndex.Image.Index.Manifest) {
			t.Fatalf("Verify: %+v, %v", d, err)
		}
	})
	t.Run("a plugin flooding stderr is still heard on stdout", func(t *testing.T) {
		h, _ := installPlugin(t, "floods-stderr")
		d, err := h.Verify(context.Background(), "floods-stderr", req)
		if err != nil || !d.Accepted {
			t.Errorf("Verify: %+v, %v; want accepted (stderr is only diagnostics)", d, err)
		}
	})
}

func TestVerifyRejectsEveryAnomaly(t *testing.T) {
	tests := []struct {
		name    string
		plugin  string
		config  string
		timeout time.Duration
		index   bool   // the request carries an index
		want    string // substring of the error
		code    string
	}{
		{name: "a plugin that never answers is killed at the timeout", plugin: "sleeper", timeout: 300 * time.Millisecond, want: "timed out after 300ms; its process group was killed"},
		{name: "a plugin killed by a signal", plugin: "killed", want: "killed by signal killed"},
		{name: "a plugin that crashes with a panic", plugin: "panics", want: "exit status 2; stderr: "},
		{name: "exit status 2 even after a valid accept", plugin: "exit2-after-accept", want: "exit status 2; stderr: something went wrong after the answer"},
		{name: "more than 1 MiB on stdout", plugin: "floods-stdout", want: "wrote more than 1048576 bytes to stdout"},
		{name: "nothing on stdout", plugin: "silent", want: "exit status 0 but nothing on stdout; stderr: nothing to say"},
		{name: "stdout that is not JSON", plugin: "garbage", want: "malformed VerifyResponse"},
		{name: "a JSON value that is not an object", plugin: "array", want: "must be an object"},
		{name: "data after the answer", plugin: "trailing", want: "trailing data after the JSON value"},
		{name: "two answers", plugin: "two-answers", want: "trailing data after the JSON value"},
		{name: "a duplicate key that would turn a reject into an accept", plugin: "duplicate-key", want: `duplicate key "verdict"`},
		{name: "a differently cased key that encoding/json would match", plugin: "case-shadow", config: rejectConfig, want: `unknown field "Verdict"`},
		{name: "an unknown field", plugin: "extra-field", want: `unknown field "trust"`},
		{name: "another apiVersion", plugin: "wrong-api", want: `apiVersion "containers-policy-plugin/v1", want "containers-policy-plugin/v1alpha1"`},
		{name: "another kind", plugin: "wrong-kind", want: `kind "ValidateConfigResponse", want "VerifyResponse"`},
		{name: "another requestID", plugin: "wrong-id", want: `requestID "another-request" does not echo`},
		{name: "no requestID", plugin: "no-id", want: `requestID missing does not echo`},
		{name: "a manifestDigest of another manifest", plugin: "wrong-digest", want: `manifestDigest "sha256:`},
		{name: "accept without accepted", plugin: "no-accepted", want: `verdict "accept" without "accepted"`},
		{name: "accept with a null accepted", plugin: "null-accepted", want: `verdict "accept" without "accepted"`},
		{name: "reject with accepted", plugin: "accepted-reject", want: `verdict "reject" with "accepted"`},
		{name: "reject while a signature result says accepted", plugin: "reject-but-accepted", want: "a signature result says accepted"},
		{name: "a verdict that is neither accept nor reject", plugin: "maybe", want: `verdict "maybe"`},
		{name: "fewer results than signatures", plugin: "lost-results", want: "0 signature results for 2 signatures"},
		{name: "accepting a signature the request does not have", plugin: "accepts-absent", want: "accepted.signature 7 is not a signature of the request"},
		{name: "accepted without via", plugin: "no-via", want: `accepted.via: required field is missing`},
		{name: "accepted via neither list", plugin: "via-both", want: `accepted.via "both", want "image" or "index"`},
		{name: "accepted via the index when no index was sent", plugin: "via-index", want: `accepted.via "index", but the request carried no index`},
		{name: "an indexDigest when no index was sent", plugin: "unasked-index", want: `indexDigest "sha256:`},
		{name: "indexSignatures when no index was sent", plugin: "unasked-index-sigs", want: `"indexSignatures", but the request carried no index`},
		{name: "an indexDigest of another index", plugin: "wrong-index-digest", index: true, want: `indexDigest "sha256:`},
		{name: "the instance's digest as the indexDigest", plugin: "instance-as-index", index: true, want: "but the index sent has digest"},
		{name: "no indexDigest for the index sent", plugin: "no-index-digest", index: true, want: "indexDigest missing, but the index sent has digest"},
		{name: "an empty indexDigest", plugin: "empty-index-digest", index: true, want: "indexDigest: must not be empty"},
		{name: "no indexSignatures for the index sent", plugin: "no-index-sigs", index: true, want: `no "indexSignatures", but the request carried an index`},
		{name: "null indexSignatures", plugin: "null-index-sigs", index: true, want: "indexSignatures"},
		{name: "fewer index results than index signatures", plugin: "lost-index-results", index: true, want: "1 index signature results for 2 index signatures"},
		{name: "index results out of order", plugin: "index-results-moved", index: true, want: "indexSignatures[0].index is 1"},
		{name: "an index accept said to be the image's", plugin: "via-image", config: acceptIndexConfig, index: true, want: "accepted.signature 0, but signatures[0].accepted is false"},
		{name: "an image accept said to be the index's", plugin: "via-index", index: true, want: "accepted.signature 0, but indexSignatures[0].accepted is false"},
		{name: "accepting an index signature the request does not have", plugin: "accepts-absent-index", config: acceptIndexConfig, index: true, want: "accepted.signature 2 is not a signature of the request's indexSignatures"},
		{name: "reject while an index signature result says accepted", plugin: "reject-but-index-accepted", config: acceptIndexConfig, index: true, want: "a signature result says accepted"},
		{name: "an Error object (exit status 1) with its code and message on one line", plugin: "error-object", want: "config.identities: required second line", code: CodeInvalidConfig},
		{name: "exit status 1 without an Error object", plugin: "error-garbage", want: "exit status 1 without a valid Error object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, _ := installPlugin(t, tt.plugin)
			if tt.timeout != 0 {
				h.Timeout = tt.timeout
			}
			config := tt.config
			if config == "" {
				config = acceptConfig
			}
			req := testVerifyRequest(config)
			if tt.index {
				req = testVerifyRequestWithIndex(config)
			}
			d, err := h.Verify(context.Background(), tt.plugin, req)
			assertRejected(t, d, err, tt.want)
			var perr *PluginError
			if errors.As(err, &perr) && perr.Code != tt.code {
				t.Errorf("code %q, want %q", perr.Code, tt.code)
			}
		})
	}
}

func TestVerifyNamesWhatEndedAHangingPlugin(t *testing.T) {
	h, _ := installPlugin(t, "sleeper")
	h.Timeout = time.Minute
	t.Run("the caller's deadline, not the host's timeout", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		d, err := h.Verify(ctx, "sleeper", testVerifyRequest(acceptConfig))
		assertRejected(t, d, err, "timed out at the caller's deadline (context deadline exceeded); its process group was killed")
	})
	t.Run("the caller's cancellation", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		d, err := h.Verify(ctx, "sleeper", testVerifyRequest(acceptConfig))
		assertRejected(t, d, err, "canceled (context canceled); its process group was killed")
	})
}

// assertRejected checks that a verify call failed closed with a one-line
// *PluginError containing want.
func assertRejected(t *testing.T, d Decision, err error, want string) {
	t.Helper()
	if d.Accepted || d.Response != nil {
		t.Errorf("decision %+v, want a rejection without a response", d)
	}
	var perr *PluginError
	if !errors.As(err, &perr) {
		t.Fatalf("error %v (%T), want a *PluginError", err, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
	if d.Reason != err.Error() || strings.ContainsAny(d.Reason, "\r\n") {
		t.Errorf("reason %q, want the error on one line", d.Reason)
	}
}

func TestVerifyRejectsWithoutRunning(t *testing.T) {
	t.Run("a request without a manifest", func(t *testing.T) {
		h, _ := installPlugin(t, "good")
		req := testVerifyRequest(acceptConfig)
		req.Image.Manifest = nil
		d, err := h.Verify(context.Background(), "good", req)
		assertRejected(t, d, err, "the request has no manifest")
	})
	t.Run("an index without a manifest", func(t *testing.T) {
		h, _ := installPlugin(t, "good")
		req := testVerifyRequestWithIndex(acceptConfig)
		req.Image.Index.Manifest = nil
		d, err := h.Verify(context.Background(), "good", req)
		assertRejected(t, d, err, "the request's index has no manifest")
	})
	t.Run("an index sent with a manifest that is itself a list", func(t *testing.T) {
		h, _ := installPlugin(t, "good")
		req := testVerifyRequestWithIndex(acceptConfig)
		req.Image.Manifest = req.Image.Index.Manifest
		d, err := h.Verify(context.Background(), "good", req)
		assertRejected(t, d, err, "the request's manifest is a manifest list or image index, and it carries an index")
	})
	t.Run("a request larger than 64 MiB", func(t *testing.T) {
		h, _ := installPlugin(t, "good")
		req := testVerifyRequest(acceptConfig)
		req.Image.Manifest = make([]byte, MaxRequestBytes)
		d, err := h.Verify(context.Background(), "good", req)
		assertRejected(t, d, err, "more than the 67108864 allowed")
	})
	t.Run("a plugin that is not installed", func(t *testing.T) {
		h := &Host{Dirs: []string{t.TempDir()}}
		d, err := h.Verify(context.Background(), "sigstore", testVerifyRequest(acceptConfig))
		assertRejected(t, d, err, "not found in")
	})
	t.Run("a canceled context", func(t *testing.T) {
		h, _ := installPlugin(t, "sleeper")
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		d, err := h.Verify(ctx, "sleeper", testVerifyRequest(acceptConfig))
		assertRejected(t, d, err, "its process group was killed")
	})
}

func TestManifestDigestIsSHA256OfTheExactBytes(t *testing.T) {
	// echo -n '{}' | sha256sum
	if got, want := ManifestDigest([]byte("{}")), "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"; got != want {
		t.Errorf("ManifestDigest({}) = %s, want %s", got, want)
	}
}
