package protocol

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Decision is what the host believes after one verify call.
type Decision struct {
	// Accepted is true only for a well-formed answer that passed every check
	// of containers-policy-plugin(5), FAIL CLOSED, with verdict accept.
	Accepted bool
	// Reason is one line: the plugin's reason for its verdict, or why the call
	// failed.
	Reason string
	// ManifestDigest is the digest the host computed from the manifest it sent.
	ManifestDigest string
	// IndexDigest is the digest the host computed from the Index.Manifest it
	// sent; empty when it sent no index.
	IndexDigest string
	// Response is the plugin's answer (accept or reject) once it passed the
	// checks; nil when the call failed. Its texts are the plugin's, untrusted:
	// print them through a sanitizer.
	Response *VerifyResponse
}

// Verify asks plugin name whether req's signatures satisfy req.Config and
// checks the answer as containers-policy-plugin(5), FAIL CLOSED, says. The host sets apiVersion
// and kind, and a random requestID when req has none; req itself is not
// modified.
//
// A nil error means the plugin answered within the protocol: Decision.Accepted
// is its verdict. A non-nil error (a *PluginError) means it did not, and is a
// rejection: Decision.Accepted is false and Decision.Reason says why.
func (h *Host) Verify(ctx context.Context, name string, req *VerifyRequest) (Decision, error) {
	sent, err := verifyRequestToSend(name, req)
	if err != nil {
		return rejected(name, err)
	}
	stdin, err := Encode(sent)
	if err != nil {
		return believe(name, sent, nil, err)
	}
	path, err := h.Resolve(name)
	if err != nil {
		return believe(name, sent, nil, err)
	}
	inv, err := h.run(ctx, path, CommandVerify, stdin)
	untrusted, err := answer(name, CommandVerify, inv, err)
	return believe(name, sent, untrusted, err)
}

// VerifyGathered is Verify for a caller that has yet to gather its request:
// it starts plugin name's verify at once and calls gather meanwhile, so that
// the plugin process starts while the caller still reads the manifest and the
// signatures (registry round trips). The request gather returns is sent and
// the answer checked exactly as Verify does. The host's timeout counts from
// the moment the request is there; gather is bounded by ctx only, and must
// return when ctx ends.
//
// An error gather returns is returned as it is, after the plugin was killed
// (the caller's own failure, not a *PluginError); Decision.Accepted is false
// then too. Every other error is a *PluginError, as for Verify.
func (h *Host) VerifyGathered(ctx context.Context, name string, gather func(context.Context) (*VerifyRequest, error)) (Decision, error) {
	path, err := h.Resolve(name)
	if err != nil {
		return rejected(name, err)
	}
	var sent *VerifyRequest // set by feed, read only after runFed waited for it
	feed := func(ctx context.Context) ([]byte, error) {
		req, err := gather(ctx)
		if err != nil {
			return nil, &gatherError{err: err}
		}
		if sent, err = verifyRequestToSend(name, req); err != nil {
			return nil, err
		}
		return Encode(sent)
	}
	inv, err := h.runFed(ctx, path, CommandVerify, feed)
	var gerr *gatherError
	if errors.As(err, &gerr) {
		return Decision{Reason: OneLine(gerr.err.Error())}, gerr.err
	}
	untrusted, err := answer(name, CommandVerify, inv, err)
	if sent == nil && err == nil {
		// The plugin answered before it was given a request: not about this image.
		err = &PluginError{Plugin: name, Command: CommandVerify, Message: "answered before it was sent the request"}
	}
	return believe(name, sent, untrusted, err)
}

// gatherError carries the error of a VerifyGathered caller's gather through
// the run, to be returned unchanged.
type gatherError struct{ err error }

func (e *gatherError) Error() string { return e.err.Error() }
func (e *gatherError) Unwrap() error { return e.err }

// verifyRequestToSend is req as the host sends it: apiVersion and kind set,
// "signatures" a list, and a random requestID when req has none.
func verifyRequestToSend(name string, req *VerifyRequest) (*VerifyRequest, error) {
	if req == nil || len(req.Image.Manifest) == 0 {
		return nil, &PluginError{Plugin: name, Command: CommandVerify, Message: "the request has no manifest"}
	}
	sent := *req
	sent.APIVersion, sent.Kind = APIVersion, KindVerifyRequest
	if sent.Signatures == nil {
		sent.Signatures = []Signature{} // "signatures": null is not a list of none
	}
	if sent.RequestID == nil {
		id := newRequestID()
		sent.RequestID = &id
	}
	if req.Image.Index != nil {
		index := *req.Image.Index
		if len(index.Manifest) == 0 {
			return nil, &PluginError{Plugin: name, Command: CommandVerify, Message: "the request's index has no manifest"}
		}
		if IsManifestList(req.Image.Manifest) {
			return nil, &PluginError{Plugin: name, Command: CommandVerify, Message: "the request's manifest is a manifest list or image index, and it carries an index: an index goes only with an instance chosen from it"}
		}
		if index.Signatures == nil {
			index.Signatures = []Signature{}
		}
		sent.Image.Index = &index
	}
	return &sent, nil
}

// believe turns a verify answer (or the failure to get one) into a Decision.
// A failure keeps the digest of the manifest sent, when one was.
func believe(name string, sent *VerifyRequest, untrusted []byte, err error) (Decision, error) {
	var d Decision
	if sent != nil {
		d.ManifestDigest = ManifestDigest(sent.Image.Manifest)
		if sent.Image.Index != nil {
			d.IndexDigest = ManifestDigest(sent.Image.Index.Manifest)
		}
	}
	fail := func(err error) (Decision, error) {
		r, perr := rejected(name, err)
		r.ManifestDigest, r.IndexDigest = d.ManifestDigest, d.IndexDigest
		return r, perr
	}
	if err != nil {
		return fail(err)
	}
	resp, err := decodeVerifyResponse(untrusted)
	if err != nil {
		return fail(fmt.Errorf("malformed VerifyResponse: %w", err))
	}
	if err := checkVerifyResponse(sent, d.ManifestDigest, d.IndexDigest, resp); err != nil {
		return fail(fmt.Errorf("VerifyResponse not believed: %w", err))
	}
	d.Response = resp
	d.Accepted = resp.Verdict == VerdictAccept
	d.Reason = OneLine(resp.Reason)
	return d, nil
}

// rejected is the Decision for a verify call that failed: a *PluginError
// (err itself when it is one), with its text as the reason.
func rejected(name string, err error) (Decision, error) {
	var perr *PluginError
	if !errors.As(err, &perr) {
		perr = &PluginError{Plugin: name, Command: CommandVerify, Message: OneLine(err.Error())}
	}
	return Decision{Reason: perr.Error()}, perr
}

// checkVerifyResponse applies containers-policy-plugin(5), FAIL CLOSED, beyond decoding, plus the
// consistency the messages promise (one result per signature of each list, in
// order; the accepted signature is one the results accept, of the list
// accepted.via names), so that a confused plugin is caught rather than
// believed. indexDigest is "" when the request carried no index.
func checkVerifyResponse(req *VerifyRequest, manifestDigest, indexDigest string, resp *VerifyResponse) error {
	if req.RequestID != nil && (resp.RequestID == nil || *resp.RequestID != *req.RequestID) {
		return fmt.Errorf("requestID %s does not echo the request's %q", describeString(resp.RequestID), *req.RequestID)
	}
	if resp.ManifestDigest != manifestDigest {
		msg := fmt.Sprintf("manifestDigest %q, but the manifest sent has digest %s", OneLine(resp.ManifestDigest), manifestDigest)
		if strings.HasPrefix(req.Image.ManifestMIMEType, "application/vnd.docker.distribution.manifest.v1") {
			msg += " (Docker schema1 manifests are not supported: see ManifestDigest)"
		}
		return errors.New(msg)
	}
	var indexSignatures []Signature
	if req.Image.Index != nil {
		indexSignatures = req.Image.Index.Signatures
		if resp.IndexDigest != indexDigest {
			return fmt.Errorf("indexDigest %s, but the index sent has digest %s", describeOptional(resp.IndexDigest), indexDigest)
		}
		if resp.IndexSignatures == nil {
			return errors.New(`no "indexSignatures", but the request carried an index`)
		}
	} else {
		if resp.IndexDigest != "" {
			return fmt.Errorf("indexDigest %q, but the request carried no index", OneLine(resp.IndexDigest))
		}
		if resp.IndexSignatures != nil {
			return errors.New(`"indexSignatures", but the request carried no index`)
		}
	}
	switch resp.Verdict {
	case VerdictAccept:
		if resp.Accepted == nil {
			return errors.New(`verdict "accept" without "accepted"`)
		}
	case VerdictReject:
		if resp.Accepted != nil {
			return errors.New(`verdict "reject" with "accepted"`)
		}
	default:
		return fmt.Errorf("verdict %q, want %q or %q", OneLine(resp.Verdict), VerdictAccept, VerdictReject)
	}
	imageAccepted, err := checkResults("signatures", "signature", req.Signatures, resp.Signatures)
	if err != nil {
		return err
	}
	indexAccepted, err := checkResults("indexSignatures", "index signature", indexSignatures, resp.IndexSignatures)
	if err != nil {
		return err
	}
	if resp.Accepted == nil {
		if imageAccepted || indexAccepted {
			return errors.New(`verdict "reject" but a signature result says accepted`)
		}
		return nil
	}
	sigs, results, list := req.Signatures, resp.Signatures, "signatures"
	switch resp.Accepted.Via {
	case AcceptedViaImage:
	case AcceptedViaIndex:
		if req.Image.Index == nil {
			return fmt.Errorf("accepted.via %q, but the request carried no index", AcceptedViaIndex)
		}
		sigs, results, list = indexSignatures, resp.IndexSignatures, "indexSignatures"
	default:
		return fmt.Errorf("accepted.via %q, want %q or %q", OneLine(resp.Accepted.Via), AcceptedViaImage, AcceptedViaIndex)
	}
	k := resp.Accepted.Signature
	if k < 0 || k >= len(sigs) {
		return fmt.Errorf("accepted.signature %d is not a signature of the request's %s", k, list)
	}
	if !results[k].Accepted {
		return fmt.Errorf("accepted.signature %d, but %s[%d].accepted is false", k, list, k)
	}
	if resp.Accepted.Format != sigs[k].Format {
		return fmt.Errorf("accepted.format %q, but %s[%d] has format %q", OneLine(resp.Accepted.Format), list, k, sigs[k].Format)
	}
	return nil
}

// checkResults checks that results has one entry per signature, in order,
// and says whether one is accepted.
func checkResults(list, noun string, sigs []Signature, results []SignatureResult) (anyAccepted bool, err error) {
	if len(results) != len(sigs) {
		return false, fmt.Errorf("%d %s results for %d %ss", len(results), noun, len(sigs), noun)
	}
	for i, r := range results {
		if r.Index != i {
			return false, fmt.Errorf("%s[%d].index is %d", list, i, r.Index)
		}
		anyAccepted = anyAccepted || r.Accepted
	}
	return anyAccepted, nil
}

func describeOptional(s string) string {
	if s == "" {
		return "missing"
	}
	return fmt.Sprintf("%q", OneLine(s))
}

func describeString(s *string) string {
	if s == nil {
		return "missing"
	}
	return fmt.Sprintf("%q", OneLine(*s))
}

// ManifestDigest is the digest the host expects a plugin to echo:
// "sha256:" and the hex SHA-256 of the exact manifest bytes.
//
// containers/image's manifest.Digest differs from this for one kind of
// manifest only: a signed Docker schema1 manifest, whose digest it computes
// over the bytes without the JWS signatures. This package does not repeat that
// (it would mean parsing untrusted JWS with the standard library, exactly as
// libtrust does); for such a manifest the plugin's digest differs and Verify
// rejects. Schema1 is deprecated, registries refuse it by default, and cosign
// cannot sign it, so failing closed there loses nothing real.
func ManifestDigest(manifest []byte) string {
	sum := sha256.Sum256(manifest)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// newRequestID returns a random UUID (version 4) to correlate a verify call
// with the plugin's logs and to catch an answer to another request.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics instead)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
