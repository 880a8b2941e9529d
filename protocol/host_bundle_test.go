package protocol

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// requestLevels is how deep a bundle sits in a VerifyRequest: the request
// object, "signatures", the entry. The depth left to a bundle is
// strictjson.MaxDepth less these.
const requestLevels = 3

// nestedObjects is an object nesting depth levels deep: {"a":{"a":{}}} is 3.
func nestedObjects(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + `{}` + strings.Repeat(`}`, depth-1)
}

// nestedArrays is an object holding arrays, depth levels deep in all: {"a":[[]]} is 3.
func nestedArrays(depth int) string {
	return `{"a":` + strings.Repeat(`[`, depth-1) + strings.Repeat(`]`, depth-1) + `}`
}

type bundleCase struct {
	name     string
	bundle   string
	sendable bool
	err      string // part of SendableBundle's error when not sendable
}

func sendableBundleCases(t testing.TB) []bundleCase {
	realBundle, err := os.ReadFile(filepath.Join("..", "testdata", "generated", "gitlab", "bundle.sigstore.json"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []bundleCase{
		{"a real bundle", string(realBundle), true, ""},
		{"escapes and non-ASCII", `{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "x": "\u00e9\ud83d\ude00é<&>"}`, true, ""},
		{"white space around it", " \n{\"a\": [1, 2]}\t\n", true, ""},
		{"an empty object", `{}`, true, ""},
		{"a duplicate key", `{"mediaType": "a", "mediaType": "b"}`, false, `bundle: duplicate key "mediaType"`},
		{"a nested duplicate key", `{"a": [{"b": 1, "b": 2}]}`, false, `bundle.a[0]: duplicate key "b"`},
		{"a duplicate key spelled with an escape", `{"a": 1, "\u0061": 2}`, false, `bundle: duplicate key "a"`},
		{"an unpaired surrogate", `{"x": "\ud800"}`, false, "bundle.x: string is not well-formed Unicode"},
		{"an unpaired surrogate in a key", `{"\udc00": 1}`, false, "bundle: string is not well-formed Unicode"},
		{"invalid UTF-8", "{\"x\": \"\xff\"}", false, "bundle.x: string is not well-formed Unicode"},
		{"an array", `[]`, false, "bundle: refused in a verify request: signatures[0].bundle: must be an object"},
		{"a string", `"bundle"`, false, "signatures[0].bundle: must be an object"},
		{"null", `null`, false, "signatures[0].bundle: must be an object"},
		{"a number", `1`, false, "signatures[0].bundle: must be an object"},
		{"a boolean", `true`, false, "signatures[0].bundle: must be an object"},
		{"trailing data", `{} {}`, false, "bundle: trailing data"},
		{"trailing garbage", `{}x`, false, "bundle"},
		{"a value that closes its entry", `{}},{"format":"sigstore-bundle","bundle":{}`, false, "bundle"},
		{"not JSON", `not JSON`, false, "bundle: malformed JSON"},
		{"an unterminated object", `{"a": 1`, false, "bundle"},
		{"nothing", ``, false, "bundle: unexpected end of JSON input"},
		{"white space only", " \n", false, "bundle: unexpected end of JSON input"},
	}
	// Nesting at every depth around the limit, in objects and in arrays: a
	// bundle fits where the request's levels and its own stay within MaxDepth.
	for depth := strictjson.MaxDepth - requestLevels - 2; depth <= strictjson.MaxDepth+1; depth++ {
		fits := depth+requestLevels <= strictjson.MaxDepth
		err := fmt.Sprintf("JSON nested deeper than %d levels", strictjson.MaxDepth)
		if fits {
			err = ""
		}
		cases = append(cases,
			bundleCase{fmt.Sprintf("objects %d levels deep", depth), nestedObjects(depth), fits, err},
			bundleCase{fmt.Sprintf("arrays %d levels deep", depth), nestedArrays(depth), fits, err})
	}
	return cases
}

// withBundle is a full request, as a host builds it, carrying bundle after
// the other signatures.
func withBundle(config, bundle string) *VerifyRequest {
	req := testVerifyRequest(config)
	req.Signatures = append(req.Signatures, Signature{
		Format: FormatSigstoreBundle, MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Bundle: json.RawMessage(bundle),
	})
	return req
}

// decodesInARequest says whether a request carrying bundle, encoded as a host
// sends it, decodes with the plugin's decoder; when it does, the bundle must
// arrive as it was sent.
func decodesInARequest(t *testing.T, bundle string) bool {
	t.Helper()
	sent, err := verifyRequestToSend("test", withBundle(rejectConfig, bundle))
	if err != nil {
		t.Fatal(err)
	}
	data, err := Encode(sent)
	if err != nil {
		return false
	}
	req, err := DecodeVerifyRequest(data)
	if err != nil {
		checkCodedError(t, err)
		return false
	}
	if got := req.Signatures[len(req.Signatures)-1].Bundle; !sameJSON(got, json.RawMessage(bundle)) {
		t.Fatalf("the bundle arrived as %s", got)
	}
	return true
}

// TestSendableBundleAgreesWithThePluginsDecoder: SendableBundle accepts a
// bundle exactly when a request carrying it decodes, in process and in a
// plugin run by the host, so that leaving out what it refuses leaves out
// nothing a plugin could read, and sends nothing that would make it refuse
// the other signatures.
func TestSendableBundleAgreesWithThePluginsDecoder(t *testing.T) {
	h, _ := installPlugin(t, "good")
	for _, tc := range sendableBundleCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			err := SendableBundle([]byte(tc.bundle))
			if tc.sendable != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("SendableBundle: %v, want sendable %v (%q)", err, tc.sendable, tc.err)
			}
			if decodes := decodesInARequest(t, tc.bundle); decodes != tc.sendable {
				t.Fatalf("a request carrying it decodes: %v, SendableBundle says %v", decodes, err)
			}
			d, verr := h.Verify(context.Background(), "good", withBundle(rejectConfig, tc.bundle))
			if answered := verr == nil && d.Response != nil && len(d.Response.Signatures) == 3; answered != tc.sendable {
				t.Fatalf("the plugin answered: %v (%+v, %v), SendableBundle says %v", answered, d, verr, err)
			}
		})
	}
}

// The depth rule is the request's: a bundle the plugin refuses in a request
// passes the document rules on its own, so only the request's decoder can
// tell (the hole SendableBundle closes).
func TestSendableBundleCountsTheRequestsLevels(t *testing.T) {
	deepest := nestedObjects(strictjson.MaxDepth - requestLevels)
	tooDeep := nestedObjects(strictjson.MaxDepth - requestLevels + 1)
	if err := strictjson.ValidateText([]byte(tooDeep), "bundle"); err != nil {
		t.Fatalf("on its own the bundle breaks no document rule, got %v", err)
	}
	if err := SendableBundle([]byte(deepest)); err != nil {
		t.Fatalf("the deepest bundle a request can carry: %v", err)
	}
	err := SendableBundle([]byte(tooDeep))
	want := "bundle: refused in a verify request: signatures[0].bundle" + strings.Repeat(".a", strictjson.MaxDepth-requestLevels) +
		fmt.Sprintf(": JSON nested deeper than %d levels", strictjson.MaxDepth)
	if err == nil || err.Error() != want {
		t.Fatalf("SendableBundle: %v, want %q", err, want)
	}
}

// FuzzSendableBundle: for any bytes, SendableBundle accepts exactly when a
// request carrying them decodes.
func FuzzSendableBundle(f *testing.F) {
	for _, tc := range sendableBundleCases(f) {
		f.Add([]byte(tc.bundle))
	}
	f.Fuzz(func(t *testing.T, bundle []byte) {
		err := SendableBundle(bundle)
		if decodes := decodesInARequest(t, string(bundle)); decodes != (err == nil) {
			t.Fatalf("a request carrying %q decodes: %v, SendableBundle says %v", bundle, decodes, err)
		}
	})
}

// indexLevels is how deep a bundle sits in image.index.signatures: the
// request object, "image", "index", "signatures", the entry.
const indexLevels = 5

// withIndexBundle is a full request carrying bundle in its index's signatures,
// after the index's other signatures.
func withIndexBundle(config, bundle string) *VerifyRequest {
	req := testVerifyRequestWithIndex(config)
	req.Image.Index.Signatures = append(req.Image.Index.Signatures, Signature{
		Format: FormatSigstoreBundle, MediaType: "application/vnd.dev.sigstore.bundle.v0.3+json", Bundle: json.RawMessage(bundle),
	})
	return req
}

// TestSendableIndexBundleAgreesWithThePluginsDecoder is
// TestSendableBundleAgreesWithThePluginsDecoder for a bundle of the index:
// every case, and nesting around the index position's own limit.
func TestSendableIndexBundleAgreesWithThePluginsDecoder(t *testing.T) {
	h, _ := installPlugin(t, "good")
	cases := sendableBundleCases(t)
	for depth := strictjson.MaxDepth - indexLevels - 2; depth <= strictjson.MaxDepth-indexLevels+2; depth++ {
		fits := depth+indexLevels <= strictjson.MaxDepth
		cases = append(cases,
			bundleCase{fmt.Sprintf("objects %d levels deep in the index", depth), nestedObjects(depth), fits, ""},
			bundleCase{fmt.Sprintf("arrays %d levels deep in the index", depth), nestedArrays(depth), fits, ""})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The top-level cases' depths fit or not at that position: here only
			// the decoder's answer for the index position says.
			sent, err := verifyRequestToSend("test", withIndexBundle(rejectConfig, tc.bundle))
			if err != nil {
				t.Fatal(err)
			}
			data, encErr := Encode(sent)
			decodes := false
			if encErr == nil {
				req, err := DecodeVerifyRequest(data)
				if err != nil {
					checkCodedError(t, err)
				} else {
					decodes = true
					if got := req.Image.Index.Signatures[2].Bundle; !sameJSON(got, json.RawMessage(tc.bundle)) {
						t.Fatalf("the bundle arrived as %s", got)
					}
				}
			}
			err = SendableIndexBundle([]byte(tc.bundle))
			if decodes != (err == nil) {
				t.Fatalf("a request carrying it in the index decodes: %v, SendableIndexBundle says %v", decodes, err)
			}
			if !strings.Contains(tc.name, "levels deep") && tc.sendable != (err == nil) {
				t.Fatalf("SendableIndexBundle: %v, want sendable %v", err, tc.sendable)
			}
			if strings.Contains(tc.name, "in the index") && tc.sendable != (err == nil) {
				t.Fatalf("SendableIndexBundle: %v, want sendable %v", err, tc.sendable)
			}
			d, verr := h.Verify(context.Background(), "good", withIndexBundle(rejectConfig, tc.bundle))
			if answered := verr == nil && d.Response != nil && len(d.Response.IndexSignatures) == 3; answered != (err == nil) {
				t.Fatalf("the plugin answered: %v (%+v, %v), SendableIndexBundle says %v", answered, d, verr, err)
			}
		})
	}
}

// A bundle in the index may nest two levels less than one in signatures
// (containers-policy-plugin(5): 59 and 61).
func TestSendableIndexBundleCountsTheIndexLevels(t *testing.T) {
	deepest := nestedObjects(strictjson.MaxDepth - indexLevels)
	tooDeep := nestedObjects(strictjson.MaxDepth - indexLevels + 1)
	if strictjson.MaxDepth-indexLevels != 59 || strictjson.MaxDepth-requestLevels != 61 {
		t.Fatalf("the levels left to a bundle are %d and %d, the man page says 59 and 61", strictjson.MaxDepth-indexLevels, strictjson.MaxDepth-requestLevels)
	}
	if err := SendableBundle([]byte(tooDeep)); err != nil {
		t.Fatalf("at the top level a bundle of %d levels is sendable: %v", strictjson.MaxDepth-indexLevels+1, err)
	}
	if err := SendableIndexBundle([]byte(deepest)); err != nil {
		t.Fatalf("the deepest bundle an index can carry: %v", err)
	}
	err := SendableIndexBundle([]byte(tooDeep))
	want := "bundle: refused in a verify request: image.index.signatures[0].bundle" + strings.Repeat(".a", strictjson.MaxDepth-indexLevels) +
		fmt.Sprintf(": JSON nested deeper than %d levels", strictjson.MaxDepth)
	if err == nil || err.Error() != want {
		t.Fatalf("SendableIndexBundle: %v, want %q", err, want)
	}
}
