package protocol

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// Seeds: the shipped example request, the generated signatures and bundles,
// and the decoder table's inputs.
func addRequestSeeds(f *testing.F) {
	if data, err := os.ReadFile("../testdata/public-good/request.json"); err == nil {
		f.Add(data)
	}
	image := `{"transport": "docker", "dockerReference": "example.com/a:1", "manifest": "` + manifestB64 + `"}`
	entries, _ := filepath.Glob("../testdata/generated/*/signature.json")
	bundles, _ := filepath.Glob("../testdata/generated/*/bundle.sigstore.json")
	for i, path := range entries {
		sig, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		sigs := `[` + string(sig) + `]`
		if i < len(bundles) {
			bundle, err := os.ReadFile(bundles[i])
			if err != nil {
				f.Fatal(err)
			}
			sigs = `[` + string(sig) + `, {"format": "sigstore-bundle", "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "bundle": ` + string(bundle) + `}]`
		}
		f.Add([]byte(verifyRequest(image, sigs)))
	}
	f.Add([]byte(verifyRequest(image, `[{"format": "x-future", "whatever": [1]}]`)))
	// image.index: both lists, an instance and a list as image.manifest.
	indexSigs := `[{"format": "sigstore-json", "mimeType": "m", "payload": "e30=", "annotations": {"a": "b"}}, {"format": "sigstore-bundle", "mediaType": "t", "bundle": {"x": [1]}}, {"format": "x-future"}]`
	for _, manifest := range []string{instanceB64, indexB64, listB64, bareIndexB64} {
		f.Add([]byte(verifyRequest(imageWithIndex(manifest, `{"manifest": "`+indexB64+`", "manifestMIMEType": "application/vnd.oci.image.index.v1+json", "signatures": `+indexSigs+`}`), `[]`)))
	}
	if len(bundles) > 0 {
		bundle, err := os.ReadFile(bundles[0])
		if err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(verifyRequest(imageWithIndex(instanceB64, `{"manifest": "`+listB64+`", "signatures": [{"format": "sigstore-bundle", "bundle": `+string(bundle)+`}]}`), `[]`)))
	}
	f.Add([]byte(`{"apiVersion": "` + APIVersion + `", "kind": "ValidateConfigRequest", "config": {"a": [1, {"b": null}]}}`))
	f.Add([]byte(strings.Repeat("[", strictjson.MaxDepth+1)))
}

// FuzzDecodeVerifyRequest: every input decodes or is a coded protocol error;
// what decodes survives a round trip through Encode unchanged, so nothing the
// decoder accepted was silently dropped or altered.
func FuzzDecodeVerifyRequest(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeVerifyRequest(data)
		if err != nil {
			checkCodedError(t, err)
			return
		}
		if req.APIVersion != APIVersion || req.Kind != KindVerifyRequest || len(req.Image.Manifest) == 0 || req.Signatures == nil {
			t.Fatalf("decoded an incomplete request: %+v", req)
		}
		if err := strictjson.Validate(req.Config, "config"); err != nil {
			t.Fatalf("the decoded config breaks the document rules: %v", err)
		}
		lists := [][]Signature{req.Signatures}
		if req.Image.Index != nil {
			lists = append(lists, req.Image.Index.Signatures)
			if req.Image.Index.Signatures == nil || IsManifestList(req.Image.Manifest) {
				t.Fatalf("decoded an index that breaks the rules: %+v", req.Image)
			}
		}
		for _, sigs := range lists {
			for i, sig := range sigs {
				if sig.Format == FormatSigstoreJSON && (sig.MIMEType == "" || len(sig.Payload) == 0) {
					// Encode omits an empty mimeType or payload (omitempty), and the
					// decoder requires both: such a request cannot round-trip. A
					// host that sends one gets INVALID_REQUEST, which fails closed.
					return
				}
				if sig.Unknown {
					// Its fields are not read, so a round trip cannot keep them.
					sigs[i] = Signature{Format: sig.Format, Unknown: true}
				}
			}
		}
		again, err := Encode(req)
		if err != nil {
			t.Fatalf("encoding a decoded request: %v", err)
		}
		back, err := DecodeVerifyRequest(again)
		if err != nil {
			if hasUnknown(req) {
				return // an unknown format's entry re-encodes without its fields
			}
			t.Fatalf("a re-encoded request does not decode: %v\n%s", err, again)
		}
		if !sameRequest(req, back) {
			t.Fatalf("round trip changed the request:\n%+v\n%+v", req, back)
		}
	})
}

// FuzzDecodeValidateConfigRequest: the same rules for validate-config.
func FuzzDecodeValidateConfigRequest(f *testing.F) {
	addRequestSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		req, err := DecodeValidateConfigRequest(data)
		if err != nil {
			checkCodedError(t, err)
			return
		}
		if err := strictjson.Validate(req.Config, "config"); err != nil {
			t.Fatalf("the decoded config breaks the document rules: %v", err)
		}
	})
}

// FuzzStrictJSONValidate: Validate accepts only what encoding/json accepts, and
// refuses duplicate keys, which encoding/json would silently merge.
func FuzzStrictJSONValidate(f *testing.F) {
	addRequestSeeds(f)
	f.Add([]byte(`{"a": 1, "a": 2}`))
	f.Add([]byte(`{"a": 1, "\u0061": 2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := strictjson.Validate(data, "")
		if err == nil && !json.Valid(data) {
			t.Fatalf("Validate accepts what encoding/json refuses: %q", data)
		}
		var located *strictjson.Error
		if err != nil && !errors.As(err, &located) {
			t.Fatalf("an error without a path: %v", err)
		}
	})
}

func checkCodedError(t *testing.T, err error) {
	t.Helper()
	var coded *CodedError
	if !errors.As(err, &coded) {
		t.Fatalf("not a coded error: %v", err)
	}
	switch coded.Code {
	case CodeInvalidRequest, CodeUnsupportedAPIVersion:
	default:
		t.Fatalf("unexpected code %s: %s", coded.Code, coded.Message)
	}
	if coded.Message == "" {
		t.Fatal("an error without a message")
	}
}

func hasUnknown(req *VerifyRequest) bool {
	sigs := req.Signatures
	if req.Image.Index != nil {
		sigs = append(slices.Clip(sigs), req.Image.Index.Signatures...)
	}
	for _, s := range sigs {
		if s.Unknown {
			return true
		}
	}
	return false
}

// sameRequest compares two requests, with configs and bundles compared as JSON
// values (Encode may respace them) and nil and empty byte slices alike.
func sameRequest(a, b *VerifyRequest) bool {
	if !sameJSON(a.Config, b.Config) || !sameSignatures(a.Signatures, b.Signatures) {
		return false
	}
	ac, bc := *a, *b
	ac.Config, bc.Config, ac.Signatures, bc.Signatures = nil, nil, nil, nil
	if (a.Image.Index == nil) != (b.Image.Index == nil) {
		return false
	}
	if a.Image.Index != nil {
		ai, bi := *a.Image.Index, *b.Image.Index
		if !sameSignatures(ai.Signatures, bi.Signatures) {
			return false
		}
		ai.Signatures, bi.Signatures = nil, nil
		ac.Image.Index, bc.Image.Index = &ai, &bi
	}
	return reflect.DeepEqual(ac, bc)
}

func sameSignatures(a, b []Signature) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		sa, sb := a[i], b[i]
		if !sameJSON(sa.Bundle, sb.Bundle) {
			return false
		}
		sa.Bundle, sb.Bundle = nil, nil
		if len(sa.Payload) == 0 && len(sb.Payload) == 0 {
			sa.Payload, sb.Payload = nil, nil
		}
		if len(sa.Annotations) == 0 && len(sb.Annotations) == 0 {
			sa.Annotations, sb.Annotations = nil, nil
		}
		if !reflect.DeepEqual(sa, sb) {
			return false
		}
	}
	return true
}

func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}
