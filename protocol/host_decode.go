package protocol

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// Response decoding, host side. A plugin's answer is untrusted input like a
// request is to the plugin, and it is decoded by the same rules: exactly one
// JSON object, no duplicate keys at any depth, keys matched by exact case (so
// "Verdict" can never stand in for "verdict"), no unknown fields, every field
// of the right type. A response from a plugin that speaks this apiVersion has
// no other fields; one that does is not believed.

// openResponse validates the document and checks apiVersion and kind.
func openResponse(untrusted []byte, kind string) (*strictjson.Object, error) {
	if len(untrusted) == 0 {
		return nil, errors.New("wrote nothing to stdout")
	}
	obj, err := strictjson.Parse(untrusted, "")
	if err != nil {
		return nil, err
	}
	version, err := requiredString(obj, "apiVersion")
	if err != nil {
		return nil, err
	}
	if version != APIVersion {
		return nil, fmt.Errorf("apiVersion %q, want %q", version, APIVersion)
	}
	gotKind, err := requiredString(obj, "kind")
	if err != nil {
		return nil, err
	}
	if gotKind != kind {
		return nil, fmt.Errorf("kind %q, want %q", gotKind, kind)
	}
	return obj, nil
}

func requiredString(obj *strictjson.Object, key string) (string, error) {
	return obj.RequiredString(key)
}

func requiredBool(obj *strictjson.Object, key string) (bool, error) {
	if !obj.Has(key) {
		_, err := obj.Required(key)
		return false, err
	}
	b, _, err := obj.Bool(key)
	return b, err
}

// requiredInt decodes a JSON integer (no fraction, no exponent).
func requiredInt(obj *strictjson.Object, key string) (int, error) {
	raw, err := obj.Required(key)
	if err != nil {
		return 0, err
	}
	var n int
	if s := strings.TrimSpace(string(raw)); strings.ContainsAny(s, ".eE\"") || json.Unmarshal(raw, &n) != nil {
		return 0, fmt.Errorf("%s: must be an integer, got %s", obj.Path.Key(key), OneLine(string(raw)))
	}
	return n, nil
}

// requiredStrings decodes key, which must be present and an array of strings.
func requiredStrings(obj *strictjson.Object, key string) ([]string, error) {
	raw, err := obj.Required(key)
	if err != nil {
		return nil, err
	}
	return strictjson.StringArray(obj.Path.Key(key), raw)
}

// requiredArray decodes key, which must be present and an array.
func requiredArray(obj *strictjson.Object, key string) ([]json.RawMessage, error) {
	raw, err := obj.Required(key)
	if err != nil {
		return nil, err
	}
	return strictjson.Array(obj.Path.Key(key), raw)
}

func decodeMetadata(untrusted []byte) (*Metadata, error) {
	obj, err := openResponse(untrusted, KindMetadata)
	if err != nil {
		return nil, err
	}
	md := &Metadata{APIVersion: APIVersion, Kind: KindMetadata}
	if md.Name, err = requiredString(obj, "name"); err != nil {
		return nil, err
	}
	if md.Version, err = requiredString(obj, "version"); err != nil {
		return nil, err
	}
	if md.APIVersions, err = requiredStrings(obj, "apiVersions"); err != nil {
		return nil, err
	}
	if md.SignatureFormats, err = requiredStrings(obj, "signatureFormats"); err != nil {
		return nil, err
	}
	return md, obj.Close()
}

func decodeValidateConfigResponse(untrusted []byte) (*ValidateConfigResponse, error) {
	obj, err := openResponse(untrusted, KindValidateConfigResponse)
	if err != nil {
		return nil, err
	}
	resp := &ValidateConfigResponse{APIVersion: APIVersion, Kind: KindValidateConfigResponse}
	if resp.Valid, err = requiredBool(obj, "valid"); err != nil {
		return nil, err
	}
	if resp.Errors, err = decodeProblems(obj, "errors"); err != nil {
		return nil, err
	}
	if resp.Warnings, err = decodeProblems(obj, "warnings"); err != nil {
		return nil, err
	}
	if err := obj.Close(); err != nil {
		return nil, err
	}
	if resp.Valid != (len(resp.Errors) == 0) {
		return nil, fmt.Errorf("valid is %t with %d errors", resp.Valid, len(resp.Errors))
	}
	return resp, nil
}

func decodeProblems(obj *strictjson.Object, key string) ([]ConfigProblem, error) {
	elems, err := requiredArray(obj, key)
	if err != nil {
		return nil, err
	}
	problems := make([]ConfigProblem, len(elems))
	for i, e := range elems {
		p, err := strictjson.NewObject(obj.Path.Key(key).Index(i), e)
		if err != nil {
			return nil, err
		}
		if problems[i].Path, err = requiredString(p, "path"); err != nil {
			return nil, err
		}
		if problems[i].Message, err = requiredString(p, "message"); err != nil {
			return nil, err
		}
		if err := p.Close(); err != nil {
			return nil, err
		}
	}
	return problems, nil
}

// decodeVerifyResponse decodes the fields of a VerifyResponse; the checks
// against the request are verifyChecks'.
func decodeVerifyResponse(untrusted []byte) (*VerifyResponse, error) {
	obj, err := openResponse(untrusted, KindVerifyResponse)
	if err != nil {
		return nil, err
	}
	resp := &VerifyResponse{APIVersion: APIVersion, Kind: KindVerifyResponse}
	if resp.RequestID, err = obj.NullableString("requestID"); err != nil {
		return nil, err
	}
	if resp.ManifestDigest, err = requiredString(obj, "manifestDigest"); err != nil {
		return nil, err
	}
	if obj.Has("indexDigest") {
		if resp.IndexDigest, err = requiredString(obj, "indexDigest"); err != nil {
			return nil, err
		}
		if resp.IndexDigest == "" {
			// "" is how the struct says absent; present, it must say something.
			return nil, errors.New(`indexDigest: must not be empty`)
		}
	}
	if resp.Verdict, err = requiredString(obj, "verdict"); err != nil {
		return nil, err
	}
	if resp.Reason, err = requiredString(obj, "reason"); err != nil {
		return nil, err
	}
	if raw, ok := obj.Raw("accepted"); ok && !strictjson.IsNull(raw) {
		if resp.Accepted, err = decodeAccepted(raw); err != nil {
			return nil, err
		}
	}
	if resp.Signatures, err = decodeSignatureResults(obj, "signatures"); err != nil {
		return nil, err
	}
	if obj.Has("indexSignatures") {
		// Never nil once present, so that checkVerifyResponse can tell an
		// empty list from none.
		if resp.IndexSignatures, err = decodeSignatureResults(obj, "indexSignatures"); err != nil {
			return nil, err
		}
	}
	return resp, obj.Close()
}

func decodeSignatureResults(obj *strictjson.Object, key string) ([]SignatureResult, error) {
	elems, err := requiredArray(obj, key)
	if err != nil {
		return nil, err
	}
	results := make([]SignatureResult, len(elems))
	for i, e := range elems {
		if results[i], err = decodeSignatureResult(obj.Path.Key(key).Index(i), e); err != nil {
			return nil, err
		}
	}
	return results, nil
}

func decodeAccepted(raw json.RawMessage) (*Accepted, error) {
	obj, err := strictjson.NewObject("accepted", raw)
	if err != nil {
		return nil, err
	}
	a := &Accepted{}
	if a.Via, err = requiredString(obj, "via"); err != nil {
		return nil, err
	}
	if a.Signature, err = requiredInt(obj, "signature"); err != nil {
		return nil, err
	}
	if a.Format, err = requiredString(obj, "format"); err != nil {
		return nil, err
	}
	// Fields that do not apply are null, never absent (containers-policy-plugin(5), VerifyResponse).
	for _, f := range []struct {
		key string
		dst **string
	}{
		{"issuer", &a.Issuer},
		{"subject", &a.Subject},
		{"publicKey", &a.PublicKey},
		{"signedReference", &a.SignedReference},
		{"time", &a.Time},
	} {
		if !obj.Has(f.key) {
			return nil, fmt.Errorf("%s: required field is missing (null when it does not apply)", obj.Path.Key(f.key))
		}
		if *f.dst, err = obj.NullableString(f.key); err != nil {
			return nil, err
		}
	}
	return a, obj.Close()
}

func decodeSignatureResult(path strictjson.Path, raw json.RawMessage) (SignatureResult, error) {
	var r SignatureResult
	obj, err := strictjson.NewObject(path, raw)
	if err != nil {
		return r, err
	}
	if r.Index, err = requiredInt(obj, "index"); err != nil {
		return r, err
	}
	if r.Accepted, err = requiredBool(obj, "accepted"); err != nil {
		return r, err
	}
	if r.Reason, err = requiredString(obj, "reason"); err != nil {
		return r, err
	}
	return r, obj.Close()
}
