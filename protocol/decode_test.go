package protocol

import (
	"errors"
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
