package protocol

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// SendableBundle returns an error, saying why, when a VerifyRequest carrying
// the Sigstore bundle untrusted would be refused by a plugin (INVALID_REQUEST)
// because of that bundle, or could not be sent at all. A host leaves such a
// bundle out: sending it would make the plugin refuse the whole request, and
// with it every other signature of the image, so that anyone able to push a
// referrer could block the image. Such a bundle could never be accepted anyway.
//
// The answer is the decoder's own, not a restatement of its rules: the bundle
// is put, as Verify sends it, into a request that is valid without it, and
// DecodeVerifyRequest reads that request back. So whatever the plugin demands
// of a bundle holds, including what its place in the request adds: nesting
// counts from the request's root (strictjson.MaxDepth), where a bundle starts
// a few levels down, so a bundle may nest less deeply than a document of its own.
func SendableBundle(untrusted []byte) error {
	return sendableBundle(untrusted, false)
}

// SendableIndexBundle is SendableBundle for a bundle of the index, sent in
// image.index.signatures: two levels deeper in the request than one in
// signatures, so it may nest two levels less.
func SendableIndexBundle(untrusted []byte) error {
	return sendableBundle(untrusted, true)
}

func sendableBundle(untrusted []byte, inIndex bool) error {
	// The bundle's own document rules first, only for errors that name a
	// path inside the bundle; the request below applies them again.
	if err := strictjson.ValidateText(untrusted, "bundle"); err != nil {
		return err
	}
	req := &VerifyRequest{
		APIVersion: APIVersion, Kind: KindVerifyRequest,
		Config:     json.RawMessage(`{}`),
		Image:      Image{Transport: "docker", Manifest: []byte("{}")},
		Signatures: []Signature{},
	}
	entry := []Signature{{Format: FormatSigstoreBundle, Bundle: json.RawMessage(untrusted)}}
	if inIndex {
		req.Image.Index = &Index{Manifest: []byte("{}"), Signatures: entry}
	} else {
		req.Signatures = entry
	}
	data, err := Encode(req)
	if err != nil {
		return fmt.Errorf("bundle: encoding a verify request carrying it: %w", err)
	}
	if _, err := DecodeVerifyRequest(data); err != nil {
		// The path names the bundle's place in the request: the rule broken
		// may be the request's (nesting), not the bundle's own.
		message := err.Error()
		if coded := (*CodedError)(nil); errors.As(err, &coded) {
			message = coded.Message
		}
		return errors.New("bundle: refused in a verify request: " + message)
	}
	return nil
}
