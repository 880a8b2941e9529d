package protocol

import (
	"encoding/base64"
	"errors"
	"reflect"
	"strings"
	"testing"
)

const manifestB64 = "eyJzY2hlbWFWZXJzaW9uIjoyfQ=="

func verifyRequest(image, signatures string) string {
	return `{"apiVersion": "` + APIVersion + `", "kind": "VerifyRequest", "requestID": "r1", "config": {"k": [1, {"x": 2}]}, ` +
		`"image": ` + image + `, "signatures": ` + signatures + `}`
}

func TestDecodeVerifyRequest(t *testing.T) {
	image := `{"transport": "docker", "dockerReference": "example.com/a:1", "manifest": "` + manifestB64 + `"}`
	for _, tc := range []struct {
		name  string
		input string
		code  string // empty: valid
		msg   string
	}{
		{"a requestID with a surrogate pair decodes to its character", strings.Replace(verifyRequest(image, `[]`), `"r1"`, `"\ud83d\ude00 \u00e9"`, 1), "echo", "\U0001F600 \u00e9"},
		{"a requestID in raw UTF-8 decodes byte for byte", strings.Replace(verifyRequest(image, `[]`), `"r1"`, "\"\xf0\x9f\x98\x80 é\"", 1), "echo", "\U0001F600 \u00e9"},
		{"a full request decodes", verifyRequest(image, `[{"format": "sigstore-json", "mimeType": "m", "payload": "e30=", "annotations": {"a": "b"}}, {"format": "sigstore-bundle", "bundle": {}}]`), "", ""},
		{"an unknown format is kept, its fields unread", verifyRequest(image, `[{"format": "x-future", "whatever": [1]}]`), "", ""},
		{"malformed JSON", `{"apiVersion":`, CodeInvalidRequest, "unexpected end"},
		{"a duplicate key inside config", strings.Replace(verifyRequest(image, `[]`), `"k": [1,`, `"k": 0, "k": [1,`, 1), CodeInvalidRequest, `config: duplicate key "k"`},
		{"a duplicate key inside a bundle", verifyRequest(image, `[{"format": "sigstore-bundle", "bundle": {"a": {"b": 1, "b": 2}}}]`), CodeInvalidRequest, `signatures[0].bundle.a: duplicate key "b"`},
		{"an unknown top-level field", strings.Replace(verifyRequest(image, `[]`), `"kind"`, `"extra": 1, "kind"`, 1), CodeInvalidRequest, `(root): unknown field "extra"`},
		{"a field in the wrong case", strings.Replace(verifyRequest(image, `[]`), `"requestID"`, `"requestId"`, 1), CodeInvalidRequest, `unknown field "requestId"`},
		{"an unknown image field", verifyRequest(`{"transport": "docker", "dockerReference": null, "manifest": "`+manifestB64+`", "digest": "x"}`, `[]`), CodeInvalidRequest, `image: unknown field "digest"`},
		{"bad base64 in the manifest", verifyRequest(`{"transport": "docker", "dockerReference": null, "manifest": "%%"}`, `[]`), CodeInvalidRequest, "image.manifest: invalid base64"},
		{"an empty manifest", verifyRequest(`{"transport": "docker", "dockerReference": null, "manifest": ""}`, `[]`), CodeInvalidRequest, "image.manifest: must not be empty"},
		{"bad base64 in a payload", verifyRequest(image, `[{"format": "sigstore-json", "mimeType": "m", "payload": "e30"}]`), CodeInvalidRequest, "signatures[0].payload: invalid base64"},
		{"an annotation that is not a string", verifyRequest(image, `[{"format": "sigstore-json", "mimeType": "m", "payload": "e30=", "annotations": {"a": 1}}]`), CodeInvalidRequest, "signatures[0].annotations.a: must be a string"},
		{"an unknown field in a known format", verifyRequest(image, `[{"format": "sigstore-bundle", "bundle": {}, "payload": "e30="}]`), CodeInvalidRequest, `signatures[0]: unknown field "payload"`},
		{"a bundle that is not an object", verifyRequest(image, `[{"format": "sigstore-bundle", "bundle": []}]`), CodeInvalidRequest, "signatures[0].bundle: must be an object"},
		{"a missing dockerReference (null is required to say none)", verifyRequest(`{"transport": "docker", "manifest": "`+manifestB64+`"}`, `[]`), CodeInvalidRequest, "image.dockerReference: required field is missing"},
		{"missing signatures", `{"apiVersion": "` + APIVersion + `", "kind": "VerifyRequest", "config": {}, "image": ` + image + `}`, CodeInvalidRequest, "signatures: required field is missing"},
		{"another apiVersion", strings.Replace(verifyRequest(image, `[]`), APIVersion, "containers-policy-plugin/v2", 1), CodeUnsupportedAPIVersion, `"containers-policy-plugin/v2" is not supported`},
		{"a missing apiVersion", `{"kind": "VerifyRequest"}`, CodeInvalidRequest, "apiVersion: required field is missing"},
		{"the wrong kind", strings.Replace(verifyRequest(image, `[]`), `"VerifyRequest"`, `"ValidateConfigRequest"`, 1), CodeInvalidRequest, `kind: got "ValidateConfigRequest"`},
		{"trailing data", verifyRequest(image, `[]`) + ` {}`, CodeInvalidRequest, "trailing data"},
		{"an array instead of an object", `[]`, CodeInvalidRequest, "must be an object"},
		{"a requestID with a lone high surrogate escape", strings.Replace(verifyRequest(image, `[]`), `"r1"`, `"r1\ud800"`, 1), CodeInvalidRequest, "requestID: string is not well-formed Unicode"},
		{"a requestID with a lone low surrogate escape", strings.Replace(verifyRequest(image, `[]`), `"r1"`, `"\udc00r1"`, 1), CodeInvalidRequest, "requestID: string is not well-formed Unicode"},
		{"a requestID with invalid UTF-8", strings.Replace(verifyRequest(image, `[]`), `"r1"`, "\"r1\xff\"", 1), CodeInvalidRequest, "requestID: string is not well-formed Unicode"},
		{"a requestID with a UTF-8-encoded surrogate", strings.Replace(verifyRequest(image, `[]`), `"r1"`, "\"r1\xed\xa0\x80\"", 1), CodeInvalidRequest, "requestID: string is not well-formed Unicode"},
		{"a config string with a lone surrogate escape", strings.Replace(verifyRequest(image, `[]`), `"x": 2`, `"x": "\ud83d"`, 1), CodeInvalidRequest, "config.k[1].x: string is not well-formed Unicode"},
		{"a config key with invalid UTF-8", strings.Replace(verifyRequest(image, `[]`), `"x": 2`, "\"\xc3\": 2", 1), CodeInvalidRequest, "config.k[1]: string is not well-formed Unicode"},
		{"a bundle string with a lone surrogate escape", verifyRequest(image, `[{"format": "sigstore-bundle", "bundle": {"a": "\udfff"}}]`), CodeInvalidRequest, "signatures[0].bundle.a: string is not well-formed Unicode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeVerifyRequest([]byte(tc.input))
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if req.RequestID == nil || *req.RequestID != "r1" || len(req.Image.Manifest) == 0 {
					t.Fatalf("decoded %+v", req)
				}
				return
			}
			if tc.code == "echo" {
				if err != nil || req.RequestID == nil || *req.RequestID != tc.msg {
					t.Fatalf("requestID %v (%v), want %q byte for byte", req.RequestID, err, tc.msg)
				}
				return
			}
			var coded *CodedError
			if !errors.As(err, &coded) || coded.Code != tc.code || !strings.Contains(coded.Message, tc.msg) {
				t.Fatalf("error %v, want %s containing %q", err, tc.code, tc.msg)
			}
		})
	}
}

// Manifests for image.index cases, base64 as a request carries them.
var (
	instanceB64 = base64.StdEncoding.EncodeToString([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}`))
	indexB64    = base64.StdEncoding.EncodeToString([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	listB64     = base64.StdEncoding.EncodeToString([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[]}`))
	// An index without a mediaType, told by containers/image from its manifests.
	bareIndexB64 = base64.StdEncoding.EncodeToString([]byte(`{"schemaVersion":2,"manifests":[{"digest":"sha256:00","size":1}]}`))
)

func imageWithIndex(manifest, index string) string {
	return `{"transport": "docker", "dockerReference": "example.com/a:1", "manifest": "` + manifest + `", "index": ` + index + `}`
}

func TestDecodeVerifyRequestIndex(t *testing.T) {
	legacy := `{"format": "sigstore-json", "mimeType": "m", "payload": "e30=", "annotations": {"a": "b"}}`
	bundle := `{"format": "sigstore-bundle", "mediaType": "t", "bundle": {"x":1}}`
	index := func(fields string) string {
		return `{"manifest": "` + indexB64 + `", "manifestMIMEType": "application/vnd.oci.image.index.v1+json", ` + fields + `}`
	}
	for _, tc := range []struct {
		name  string
		input string
		code  string // empty: valid
		msg   string
	}{
		{"an index with both forms of signature", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [`+legacy+`, `+bundle+`]`)), `[]`), "", ""},
		{"an index with no signatures", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": []`)), `[`+legacy+`]`), "", ""},
		{"an index with an unknown format, its fields unread", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [{"format": "x-future", "y": [1]}]`)), `[]`), "", ""},
		{"an index without a MIME type", verifyRequest(imageWithIndex(instanceB64, `{"manifest": "`+indexB64+`", "signatures": []}`), `[]`), "", ""},
		{"a list without an index is a top level like any manifest", verifyRequest(`{"transport": "docker", "dockerReference": null, "manifest": "`+listB64+`"}`, `[]`), "", ""},
		{"an index manifest that is no list decodes (the plugin rejects it)", verifyRequest(imageWithIndex(instanceB64, `{"manifest": "`+instanceB64+`", "signatures": []}`), `[]`), "", ""},
		{"an OCI index as image.manifest with an index", verifyRequest(imageWithIndex(indexB64, index(`"signatures": []`)), `[]`), CodeInvalidRequest, "image.manifest: is a manifest list or image index, but image.index is given"},
		{"a Docker list as image.manifest with an index", verifyRequest(imageWithIndex(listB64, index(`"signatures": []`)), `[]`), CodeInvalidRequest, "image.manifest: is a manifest list or image index"},
		{"an index without mediaType as image.manifest with an index", verifyRequest(imageWithIndex(bareIndexB64, index(`"signatures": []`)), `[]`), CodeInvalidRequest, "image.manifest: is a manifest list or image index"},
		{"an unknown index field", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [], "digest": "sha256:00"`)), `[]`), CodeInvalidRequest, `image.index: unknown field "digest"`},
		{"a duplicate index key", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [], "signatures": []`)), `[]`), CodeInvalidRequest, `image.index: duplicate key "signatures"`},
		{"a duplicate index key in another case", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [], "Signatures": []`)), `[]`), CodeInvalidRequest, `image.index: unknown field "Signatures"`},
		{"two index keys", strings.Replace(verifyRequest(imageWithIndex(instanceB64, index(`"signatures": []`)), `[]`), `"index":`, `"index": {}, "index":`, 1), CodeInvalidRequest, `image: duplicate key "index"`},
		{"an index that is null", verifyRequest(imageWithIndex(instanceB64, `null`), `[]`), CodeInvalidRequest, "image.index: must be an object"},
		{"an index that is a list", verifyRequest(imageWithIndex(instanceB64, `[]`), `[]`), CodeInvalidRequest, "image.index: must be an object"},
		{"an index without signatures", verifyRequest(imageWithIndex(instanceB64, `{"manifest": "`+indexB64+`"}`), `[]`), CodeInvalidRequest, "image.index.signatures: required field is missing"},
		{"an index without a manifest", verifyRequest(imageWithIndex(instanceB64, `{"signatures": []}`), `[]`), CodeInvalidRequest, "image.index.manifest: required field is missing"},
		{"an empty index manifest", verifyRequest(imageWithIndex(instanceB64, `{"manifest": "", "signatures": []}`), `[]`), CodeInvalidRequest, "image.index.manifest: must not be empty"},
		{"bad base64 in the index manifest", verifyRequest(imageWithIndex(instanceB64, `{"manifest": "%%", "signatures": []}`), `[]`), CodeInvalidRequest, "image.index.manifest: invalid base64"},
		{"a MIME type that is not a string", verifyRequest(imageWithIndex(instanceB64, `{"manifest": "`+indexB64+`", "manifestMIMEType": 1, "signatures": []}`), `[]`), CodeInvalidRequest, "image.index.manifestMIMEType"},
		{"signatures that are not a list", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": {}`)), `[]`), CodeInvalidRequest, "image.index.signatures: must be an array"},
		{"bad base64 in an index payload", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [{"format": "sigstore-json", "mimeType": "m", "payload": "e30"}]`)), `[]`), CodeInvalidRequest, "image.index.signatures[0].payload: invalid base64"},
		{"an unknown field in an index entry of a known format", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [`+legacy+`, {"format": "sigstore-bundle", "bundle": {}, "payload": "e30="}]`)), `[]`), CodeInvalidRequest, `image.index.signatures[1]: unknown field "payload"`},
		{"an index bundle that is not an object", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [{"format": "sigstore-bundle", "bundle": "x"}]`)), `[]`), CodeInvalidRequest, "image.index.signatures[0].bundle: must be an object"},
		{"a duplicate key inside an index bundle", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [{"format": "sigstore-bundle", "bundle": {"a": {"b": 1, "b": 2}}}]`)), `[]`), CodeInvalidRequest, `image.index.signatures[0].bundle.a: duplicate key "b"`},
		{"a lone surrogate inside an index bundle", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [{"format": "sigstore-bundle", "bundle": {"a": "\udfff"}}]`)), `[]`), CodeInvalidRequest, "image.index.signatures[0].bundle.a: string is not well-formed Unicode"},
		{"an index bundle 59 levels deep", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [{"format": "sigstore-bundle", "bundle": `+nestedObjects(59)+`}]`)), `[]`), "", ""},
		{"an index bundle 60 levels deep", verifyRequest(imageWithIndex(instanceB64, index(`"signatures": [{"format": "sigstore-bundle", "bundle": `+nestedObjects(60)+`}]`)), `[]`), CodeInvalidRequest, "image.index.signatures[0].bundle" + strings.Repeat(".a", 59) + ": JSON nested deeper than 64 levels"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := DecodeVerifyRequest([]byte(tc.input))
			if tc.code != "" {
				var coded *CodedError
				if !errors.As(err, &coded) || coded.Code != tc.code || !strings.Contains(coded.Message, tc.msg) {
					t.Fatalf("error %v, want %s containing %q", err, tc.code, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if req.Image.Index == nil || len(req.Image.Index.Manifest) == 0 || req.Image.Index.Signatures == nil {
				if !strings.Contains(tc.name, "without an index") {
					t.Fatalf("decoded index %+v", req.Image.Index)
				}
				return
			}
			// What decodes survives a round trip: nothing was dropped.
			again, err := Encode(req)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeVerifyRequest(again)
			if err != nil || !reflect.DeepEqual(back.Image.Index, req.Image.Index) {
				t.Fatalf("round trip: %v\n%+v\n%+v", err, back.Image.Index, req.Image.Index)
			}
		})
	}
}

// The index's entries are decoded into its own list, in order, in the forms of
// signatures; the instance's list is left as it was sent.
func TestDecodeVerifyRequestKeepsTheListsApart(t *testing.T) {
	legacy := `{"format": "sigstore-json", "mimeType": "m", "payload": "e30=", "annotations": {"a": "b"}}`
	bundle := `{"format": "sigstore-bundle", "mediaType": "t", "bundle": {"x": 1}}`
	input := verifyRequest(imageWithIndex(instanceB64, `{"manifest": "`+indexB64+`", "manifestMIMEType": "m1", "signatures": [`+bundle+`, `+legacy+`]}`), `[`+legacy+`]`)
	req, err := DecodeVerifyRequest([]byte(input))
	if err != nil {
		t.Fatal(err)
	}
	index := req.Image.Index
	wantIndex, _ := base64.StdEncoding.DecodeString(indexB64)
	if string(index.Manifest) != string(wantIndex) || index.ManifestMIMEType != "m1" {
		t.Errorf("index %q (%q)", index.Manifest, index.ManifestMIMEType)
	}
	if len(index.Signatures) != 2 || index.Signatures[0].Format != FormatSigstoreBundle || string(index.Signatures[0].Bundle) != `{"x": 1}` ||
		index.Signatures[1].Format != FormatSigstoreJSON || string(index.Signatures[1].Payload) != "{}" {
		t.Errorf("index signatures %+v", index.Signatures)
	}
	if len(req.Signatures) != 1 || req.Signatures[0].Format != FormatSigstoreJSON {
		t.Errorf("signatures %+v", req.Signatures)
	}
}
