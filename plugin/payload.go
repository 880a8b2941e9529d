package plugin

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// cosignSignatureType is critical.type of every cosign simple-signing payload.
const cosignSignatureType = "cosign container image signature"

// simpleSigningPayload is the part of a verified cosign payload that binds it to an
// image. It is only ever built from bytes whose signature has been verified.
type simpleSigningPayload struct {
	dockerReference      string
	dockerManifestDigest digest.Digest
}

// parseSimpleSigningPayload parses a cosign payload with containers/image's rules:
// exactly the keys critical and optional at the top, exactly type, image and
// identity in critical, exactly one key in each of those, optional null or an
// object whose creator is a string and timestamp an integer. Anything else is
// rejected, because a payload a verifier misreads is a signature it misapplies.
func parseSimpleSigningPayload(v *verified) (*simpleSigningPayload, error) {
	top, err := parseExactFields("payload", v.payload, "critical", "optional")
	if err != nil {
		return nil, err
	}
	if err := checkOptional(top["optional"]); err != nil {
		return nil, err
	}
	critical, err := exactFields("payload.critical", top["critical"], "type", "image", "identity")
	if err != nil {
		return nil, err
	}
	typ, err := strictjson.String("payload.critical.type", critical["type"])
	if err != nil {
		return nil, err
	}
	if typ != cosignSignatureType {
		return nil, fmt.Errorf("payload.critical.type: unrecognized signature type %q", typ)
	}
	image, err := exactFields("payload.critical.image", critical["image"], "docker-manifest-digest")
	if err != nil {
		return nil, err
	}
	digestString, err := strictjson.String("payload.critical.image.docker-manifest-digest", image["docker-manifest-digest"])
	if err != nil {
		return nil, err
	}
	manifestDigest, err := digest.Parse(digestString)
	if err != nil {
		return nil, fmt.Errorf("payload.critical.image.docker-manifest-digest: invalid digest %q: %v", digestString, err)
	}
	identity, err := exactFields("payload.critical.identity", critical["identity"], "docker-reference")
	if err != nil {
		return nil, err
	}
	ref, err := strictjson.String("payload.critical.identity.docker-reference", identity["docker-reference"])
	if err != nil {
		return nil, err
	}
	return &simpleSigningPayload{dockerReference: ref, dockerManifestDigest: manifestDigest}, nil
}

// parseExactFields validates a whole document (strictjson's rules, so no
// duplicate keys) whose root must be an object with exactly the given keys.
func parseExactFields(root strictjson.Path, untrusted []byte, keys ...string) (map[string]json.RawMessage, error) {
	obj, err := strictjson.Parse(untrusted, root)
	if err != nil {
		return nil, err
	}
	return claimExactly(obj, keys)
}

// exactFields decodes an object inside a validated document that must have
// exactly the given keys.
func exactFields(path strictjson.Path, raw json.RawMessage, keys ...string) (map[string]json.RawMessage, error) {
	obj, err := strictjson.NewObject(path, raw)
	if err != nil {
		return nil, err
	}
	return claimExactly(obj, keys)
}

func claimExactly(obj *strictjson.Object, keys []string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(keys))
	for _, k := range keys {
		v, err := obj.Required(k)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, obj.Close()
}

// checkOptional accepts what cosign writes in optional: null, or annotations in
// which creator and timestamp, the two keys containers/image interprets, are typed.
func checkOptional(raw json.RawMessage) error {
	if strictjson.IsNull(raw) {
		return nil
	}
	obj, err := strictjson.NewObject("payload.optional", raw)
	if err != nil {
		return err
	}
	if v, ok := obj.Raw("creator"); ok {
		if _, err := strictjson.String("payload.optional.creator", v); err != nil {
			return err
		}
	}
	if v, ok := obj.Raw("timestamp"); ok {
		var f float64
		if err := json.Unmarshal(v, &f); err != nil || f != math.Trunc(f) {
			return &strictjson.Error{Path: "payload.optional.timestamp", Message: "must be an integer"}
		}
	}
	return nil // other optional keys are free-form annotations
}
