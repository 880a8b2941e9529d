package protocol

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// DecodeVerifyRequest decodes a verify request strictly: malformed JSON, duplicate
// keys at any depth, unknown fields, bad base64 and a wrong kind are INVALID_REQUEST;
// another apiVersion is UNSUPPORTED_API_VERSION. The config is checked for syntax
// here and interpreted by the plugin.
func DecodeVerifyRequest(data []byte) (*VerifyRequest, error) {
	obj, err := openMessage(data, KindVerifyRequest)
	if err != nil {
		return nil, err
	}
	req := &VerifyRequest{APIVersion: APIVersion, Kind: KindVerifyRequest}
	if req.RequestID, err = obj.NullableString("requestID"); err != nil {
		return nil, invalid(err)
	}
	if req.Config, err = requiredRaw(obj, "config"); err != nil {
		return nil, err
	}
	imageRaw, err := requiredRaw(obj, "image")
	if err != nil {
		return nil, err
	}
	indexElems, err := decodeImage(obj.Path.Key("image"), imageRaw, &req.Image)
	if err != nil {
		return nil, err
	}
	sigsRaw, err := requiredRaw(obj, "signatures")
	if err != nil {
		return nil, err
	}
	elems, err := strictjson.Array(obj.Path.Key("signatures"), sigsRaw)
	if err != nil {
		return nil, invalid(err)
	}
	// Counted before any entry is decoded: the limit is what bounds the work.
	if total := len(elems) + len(indexElems); total > MaxSignatures {
		return nil, Errorf(CodeInvalidRequest, "the request carries %d signature entries (signatures and image.index.signatures together); at most %d are allowed", total, MaxSignatures)
	}
	if req.Signatures, err = decodeSignatures(obj.Path.Key("signatures"), elems); err != nil {
		return nil, err
	}
	if req.Image.Index != nil {
		if req.Image.Index.Signatures, err = decodeSignatures(obj.Path.Key("image").Key("index").Key("signatures"), indexElems); err != nil {
			return nil, err
		}
	}
	return req, closeObject(obj)
}

// DecodeValidateConfigRequest decodes a validate-config request with the rules of
// DecodeVerifyRequest.
func DecodeValidateConfigRequest(data []byte) (*ValidateConfigRequest, error) {
	obj, err := openMessage(data, KindValidateConfigRequest)
	if err != nil {
		return nil, err
	}
	req := &ValidateConfigRequest{APIVersion: APIVersion, Kind: KindValidateConfigRequest}
	if req.Config, err = requiredRaw(obj, "config"); err != nil {
		return nil, err
	}
	return req, closeObject(obj)
}

// decodeImage decodes image; the entries of image.index.signatures it returns
// undecoded, for DecodeVerifyRequest to count both lists first.
func decodeImage(path strictjson.Path, raw json.RawMessage, img *Image) (indexElems []json.RawMessage, err error) {
	obj, err := strictjson.NewObject(path, raw)
	if err != nil {
		return nil, invalid(err)
	}
	var present bool
	if img.Transport, present, err = obj.String("transport"); err != nil || !present {
		return nil, missingOr(obj, "transport", err)
	}
	if !obj.Has("dockerReference") {
		return nil, missingOr(obj, "dockerReference", nil)
	}
	if img.DockerReference, err = obj.NullableString("dockerReference"); err != nil {
		return nil, invalid(err)
	}
	if img.Manifest, present, err = obj.Base64("manifest"); err != nil || !present {
		return nil, missingOr(obj, "manifest", err)
	}
	if len(img.Manifest) == 0 {
		return nil, invalid(&strictjson.Error{Path: path.Key("manifest"), Message: "must not be empty"})
	}
	if img.ManifestMIMEType, _, err = obj.String("manifestMIMEType"); err != nil {
		return nil, invalid(err)
	}
	if raw, ok := obj.Raw("index"); ok {
		if img.Index, indexElems, err = decodeIndex(path.Key("index"), raw); err != nil {
			return nil, err
		}
		// A list chosen from a list is no instance: host and plugin would
		// disagree about what the index's signature authenticates.
		if IsManifestList(img.Manifest) {
			return nil, invalid(&strictjson.Error{Path: path.Key("manifest"), Message: "is a manifest list or image index, but image.index is given (image.index goes with an instance chosen from it)"})
		}
	}
	return indexElems, closeObject(obj)
}

// decodeIndex decodes image.index but for its signatures' entries.
func decodeIndex(path strictjson.Path, raw json.RawMessage) (*Index, []json.RawMessage, error) {
	obj, err := strictjson.NewObject(path, raw)
	if err != nil {
		return nil, nil, invalid(err)
	}
	index := &Index{}
	var present bool
	if index.Manifest, present, err = obj.Base64("manifest"); err != nil || !present {
		return nil, nil, missingOr(obj, "manifest", err)
	}
	if len(index.Manifest) == 0 {
		return nil, nil, invalid(&strictjson.Error{Path: path.Key("manifest"), Message: "must not be empty"})
	}
	if index.ManifestMIMEType, _, err = obj.String("manifestMIMEType"); err != nil {
		return nil, nil, invalid(err)
	}
	sigsRaw, err := requiredRaw(obj, "signatures")
	if err != nil {
		return nil, nil, err
	}
	elems, err := strictjson.Array(path.Key("signatures"), sigsRaw)
	if err != nil {
		return nil, nil, invalid(err)
	}
	return index, elems, closeObject(obj)
}

func decodeSignatures(path strictjson.Path, elems []json.RawMessage) ([]Signature, error) {
	sigs := make([]Signature, len(elems))
	for i, e := range elems {
		if err := decodeSignature(path.Index(i), e, &sigs[i]); err != nil {
			return nil, err
		}
	}
	return sigs, nil
}

func decodeSignature(path strictjson.Path, raw json.RawMessage, sig *Signature) error {
	obj, err := strictjson.NewObject(path, raw)
	if err != nil {
		return invalid(err)
	}
	var present bool
	if sig.Format, present, err = obj.String("format"); err != nil || !present {
		return missingOr(obj, "format", err)
	}
	switch sig.Format {
	case FormatSigstoreJSON:
		if sig.MIMEType, present, err = obj.String("mimeType"); err != nil || !present {
			return missingOr(obj, "mimeType", err)
		}
		if sig.Payload, present, err = obj.Base64("payload"); err != nil || !present {
			return missingOr(obj, "payload", err)
		}
		if annotations, ok := obj.Raw("annotations"); ok {
			if sig.Annotations, err = strictjson.StringMap(path.Key("annotations"), annotations); err != nil {
				return invalid(err)
			}
		}
	case FormatSigstoreBundle:
		if sig.MediaType, _, err = obj.String("mediaType"); err != nil {
			return invalid(err)
		}
		bundle, ok := obj.Raw("bundle")
		if !ok {
			return missingOr(obj, "bundle", nil)
		}
		// Only its kind is checked here: the plugin parses it, and the
		// document rules already hold for the whole request.
		if !strictjson.IsObject(bundle) {
			return invalid(&strictjson.Error{Path: path.Key("bundle"), Message: "must be an object"})
		}
		sig.Bundle = bundle
	default:
		// A format from a newer host: this entry is rejected by the plugin, the
		// others are still evaluated. Its fields mean nothing to us, so none can be
		// an ignored constraint.
		sig.Unknown = true
		return nil
	}
	return closeObject(obj)
}

// openMessage validates the document rules and the apiVersion and kind of a message.
// Every string of a message, config and bundles included, must be well-formed
// Unicode: the protocol is byte-exact, and a string decoded with U+FFFD in place
// of what was sent would be echoed or matched as something the host never sent.
func openMessage(data []byte, kind string) (*strictjson.Object, error) {
	obj, err := strictjson.ParseText(data, "")
	if err != nil {
		return nil, invalid(err)
	}
	version, present, err := obj.String("apiVersion")
	if err != nil || !present {
		return nil, missingOr(obj, "apiVersion", err)
	}
	if version != APIVersion {
		return nil, Errorf(CodeUnsupportedAPIVersion, "apiVersion %q is not supported (want %q)", version, APIVersion)
	}
	gotKind, present, err := obj.String("kind")
	if err != nil || !present {
		return nil, missingOr(obj, "kind", err)
	}
	if gotKind != kind {
		return nil, Errorf(CodeInvalidRequest, "kind: got %q, want %q", gotKind, kind)
	}
	return obj, nil
}

func requiredRaw(obj *strictjson.Object, key string) (json.RawMessage, error) {
	raw, err := obj.Required(key)
	if err != nil {
		return nil, invalid(err)
	}
	return raw, nil
}

// missingOr is INVALID_REQUEST for err, or, without one, for key being absent.
func missingOr(obj *strictjson.Object, key string, err error) error {
	if err == nil {
		if _, err = obj.Required(key); err == nil {
			err = &strictjson.Error{Path: obj.Path.Key(key), Message: "must be given"} // not reached: callers pass absent keys
		}
	}
	return invalid(err)
}

func closeObject(obj *strictjson.Object) error {
	if err := obj.Close(); err != nil {
		return invalid(err)
	}
	return nil
}

// invalid wraps a decoding error as INVALID_REQUEST, keeping an existing code.
func invalid(err error) error {
	var coded *CodedError
	if errors.As(err, &coded) {
		return coded
	}
	return &CodedError{Code: CodeInvalidRequest, Message: err.Error()}
}

// decodeErrorMessage decodes the Error object a plugin writes with exit status 1.
func decodeErrorMessage(data []byte) (*Error, error) {
	obj, err := openMessage(data, KindError)
	if err != nil {
		return nil, err
	}
	e := &Error{APIVersion: APIVersion, Kind: KindError}
	var present bool
	if e.Code, present, err = obj.String("code"); err != nil || !present {
		return nil, missingOr(obj, "code", err)
	}
	if e.Message, present, err = obj.String("message"); err != nil || !present {
		return nil, missingOr(obj, "message", err)
	}
	if err := closeObject(obj); err != nil {
		return nil, fmt.Errorf("plugin error object: %w", err)
	}
	return e, nil
}
