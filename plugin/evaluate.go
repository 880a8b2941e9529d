package plugin

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"

	"github.com/policy-plugins/sigstore/protocol"
)

// Evaluate answers one verify request: a pure function of the request and the trust
// files its config names. A config that cannot be used is an INVALID_CONFIG error;
// everything about the signatures is a verdict.
func Evaluate(req *protocol.VerifyRequest) (*protocol.VerifyResponse, error) {
	// DecodeVerifyRequest refuses these already; an in-process caller's
	// request is held to the same limit.
	total := len(req.Signatures)
	if req.Image.Index != nil {
		total += len(req.Image.Index.Signatures)
	}
	if total > MaxSignatures {
		return nil, protocol.Errorf(protocol.CodeInvalidRequest, "the request carries %d signature entries (signatures and image.index.signatures together); at most %d are allowed", total, MaxSignatures)
	}
	cfg, errs, _ := ParseConfig(req.Config)
	if len(errs) > 0 {
		return nil, invalidConfig(errs)
	}
	return cfg.Evaluate(&req.Image, req.Signatures), nil
}

func invalidConfig(errs []protocol.ConfigProblem) error {
	msg := errs[0].Path + ": " + errs[0].Message
	if len(errs) > 1 {
		msg += fmt.Sprintf(" (and %d more; run validate-config)", len(errs)-1)
	}
	return protocol.Errorf(protocol.CodeInvalidConfig, "%s", msg)
}

// evaluation is the state of one Evaluate call for one list of signatures:
// the image's, or its index's (index set).
type evaluation struct {
	cfg *Config
	// image is what the signatures must be of: the image, or for the index's
	// signatures the index's bytes with the image's dockerReference.
	image          *protocol.Image
	manifestDigest digest.Digest
	// index is set when the signatures are the index's: one accepted counts
	// only if the index lists the instance (listsInstance).
	index *indexContext
	// links remembers which lent chain certificates crypto/x509 linked to a
	// trusted CA, for every signature of the evaluation (withIntermediates).
	links *chainLinks
	// withheld is set by a verification that failed for want of lent chain
	// certificates links has not checked yet (withholding).
	withheld int
}

// outcome is the decision for one signature: accepted when signature is set.
type outcome struct {
	accepted *verifiedSignature
	signed   *string // the reference the signature names, if any
	err      error   // why it is rejected: a *rejection (reasonOf)
}

func reject(format string, args ...any) outcome {
	return outcome{err: rejectf(format, args...)}
}

// Evaluate decides the signatures of one image. The first accepted signature ends
// the work; the ones after it are reported as not evaluated. With image.Index,
// the index's signatures are decided when none of the image's is accepted, by
// the same code, for the index's bytes; one accepted there counts when the
// index lists the image (containers-policy-plugin(5), VerifyRequest).
func (c *Config) Evaluate(image *protocol.Image, signatures []protocol.Signature) *protocol.VerifyResponse {
	resp, _ := c.evaluate(image, signatures)
	return resp
}

// evaluate is Evaluate that also returns the evaluation of the image's
// signatures, for tests of the work it did.
func (c *Config) evaluate(image *protocol.Image, signatures []protocol.Signature) (*protocol.VerifyResponse, *evaluation) {
	resp := &protocol.VerifyResponse{Signatures: notEvaluated(len(signatures))}
	index := image.Index
	if index != nil {
		resp.IndexSignatures = notEvaluated(len(index.Signatures))
	}
	manifestDigest, err := manifest.Digest(image.Manifest)
	if err != nil {
		resp.Verdict = protocol.VerdictReject
		resp.Reason = oneLine("cannot compute the manifest digest: " + err.Error())
		return resp, nil
	}
	resp.ManifestDigest = manifestDigest.String()
	var indexDigest digest.Digest
	if index != nil {
		if indexDigest, err = manifest.Digest(index.Manifest); err != nil {
			resp.Verdict = protocol.VerdictReject
			resp.Reason = oneLine("cannot compute the index digest: " + err.Error())
			return resp, nil
		}
		resp.IndexDigest = indexDigest.String()
	}
	total := len(signatures)
	if index != nil {
		total += len(index.Signatures)
	}
	limit := reasonLimit(total)

	e := &evaluation{cfg: c, image: image, manifestDigest: manifestDigest, links: newChainLinks()}
	own := record(resp.Signatures, e.decide(signatures), limit, "signature")
	if own.accepted != nil {
		resp.Accepted = accepted(protocol.AcceptedViaImage, own.index, signatures[own.index].Format, *own.accepted)
		resp.Verdict = protocol.VerdictAccept
		resp.Reason = boundReason(acceptReason(resp.Accepted), reasonRejections*maxReasonBytes+256)
		return resp, e
	}
	var fromIndex recorded
	if index != nil {
		ie := &evaluation{
			cfg: c,
			image: &protocol.Image{
				Transport: image.Transport, DockerReference: image.DockerReference,
				Manifest: index.Manifest, ManifestMIMEType: index.ManifestMIMEType,
			},
			manifestDigest: indexDigest,
			index:          &indexContext{instance: manifestDigest},
			links:          newChainLinks(),
		}
		fromIndex = record(resp.IndexSignatures, ie.decide(index.Signatures), limit, "index signature")
		if fromIndex.accepted != nil {
			resp.Accepted = accepted(protocol.AcceptedViaIndex, fromIndex.index, index.Signatures[fromIndex.index].Format, *fromIndex.accepted)
			resp.Verdict = protocol.VerdictAccept
			resp.Reason = fmt.Sprintf("accepted through its index %s (signature %d of the index)", indexDigest, fromIndex.index)
			if who := acceptedBy(resp.Accepted); who != "" {
				resp.Reason += ": " + who
			}
			resp.Reason = boundReason(resp.Reason, reasonRejections*maxReasonBytes+256)
			return resp, e
		}
	}

	resp.Verdict = protocol.VerdictReject
	switch {
	case len(signatures) == 0 && (index == nil || len(index.Signatures) == 0):
		resp.Reason = "no signatures: the image is not signed"
		if index != nil {
			resp.Reason = fmt.Sprintf("no signatures: neither the image nor its index %s is signed", indexDigest)
		}
		resp.Reason += " (or the host found none of the formats " + strings.Join(c.enabledFormats(), ", ") + ")"
	case len(signatures) == 0:
		// "no signatures" is never said of an image whose index is signed.
		resp.Reason = fmt.Sprintf("the instance has no signature; its index has %d, none accepted: %s", len(index.Signatures), fromIndex.summary())
	case index == nil:
		resp.Reason = "no signature accepted: " + own.summary()
	case len(index.Signatures) == 0:
		resp.Reason = fmt.Sprintf("no signature accepted: %s; its index %s has no signature", own.summary(), indexDigest)
	default:
		resp.Reason = fmt.Sprintf("no signature accepted: %s; of its index %s: %s", own.summary(), indexDigest, fromIndex.summary())
	}
	bound := reasonRejections*maxReasonBytes + 256
	if index != nil {
		bound += reasonRejections * maxReasonBytes // the index's rejections too
	}
	resp.Reason = boundReason(resp.Reason, bound)
	return resp, e
}

func notEvaluated(n int) []protocol.SignatureResult {
	results := make([]protocol.SignatureResult, n)
	for i := range results {
		results[i] = protocol.SignatureResult{Index: i, Reason: protocol.NotEvaluated}
	}
	return results
}

// recorded is what record made of one list's outcomes.
type recorded struct {
	accepted *outcome
	index    int // of accepted
	// rejections quotes the first reasonRejections rejections, each named
	// "<noun> <i>"; rejected counts them all.
	rejections []string
	rejected   int
}

// record writes the results of one list's outcomes (nil: not evaluated).
func record(results []protocol.SignatureResult, outcomes []*outcome, limit int, noun string) recorded {
	var r recorded
	for i, out := range outcomes {
		switch {
		case out == nil:
			results[i] = protocol.SignatureResult{Index: i, Reason: protocol.NotEvaluated}
		case out.accepted != nil:
			results[i] = protocol.SignatureResult{Index: i, Accepted: true, Reason: "accepted"}
			r.accepted, r.index = out, i
		default:
			reason := boundReason(reasonOf(out.err), limit)
			results[i] = protocol.SignatureResult{Index: i, Reason: reason}
			if r.rejected++; r.rejected <= reasonRejections {
				r.rejections = append(r.rejections, fmt.Sprintf("%s %d: %s", noun, i, reason))
			}
		}
	}
	return r
}

func (r recorded) summary() string {
	s := strings.Join(r.rejections, "; ")
	if more := r.rejected - len(r.rejections); more > 0 {
		s += fmt.Sprintf("; and %d more rejected (see signatures)", more)
	}
	return s
}

// decide decides the signatures in order until one is accepted; nil is a
// signature not evaluated. A signature that failed only for want of lent chain
// certificates not yet checked (chainLinks) is decided again after all the
// others, those with the fewest such certificates first; the first accepted
// then ends the work, and the signatures still waiting are not evaluated.
func (e *evaluation) decide(signatures []protocol.Signature) []*outcome {
	outcomes := make([]*outcome, len(signatures))
	copies := newCopies()
	one := func(i int) bool {
		e.withheld = 0
		out, ok := copies.rejected(&signatures[i])
		if !ok {
			if e.withheld = copies.waitingFor(&signatures[i]); e.withheld > 0 && !e.links.checking {
				return false
			}
			e.withheld = 0
			out = e.evaluateSignature(&signatures[i])
			if e.withheld > 0 {
				copies.wait(&signatures[i], e.withheld)
				return false
			}
			if out.accepted != nil && e.index != nil {
				if err := e.listsInstance(); err != nil {
					out = outcome{err: err}
				}
			}
			copies.remember(&signatures[i], out)
		}
		outcomes[i] = &out
		return out.accepted != nil
	}
	var waiting []int
	withheld := make(map[int]int)
	for i := range signatures {
		if one(i) {
			return outcomes
		}
		if outcomes[i] == nil {
			waiting = append(waiting, i)
			withheld[i] = e.withheld
		}
	}
	slices.SortStableFunc(waiting, func(a, b int) int { return cmp.Compare(withheld[a], withheld[b]) })
	e.links.checking = true
	for _, i := range waiting {
		if one(i) {
			break
		}
	}
	return outcomes
}

func (e *evaluation) evaluateSignature(sig *protocol.Signature) outcome {
	if sig.Unknown {
		return reject("unknown signature format %q", sig.Format)
	}
	if !e.cfg.formats[sig.Format] {
		return reject("signature format %s is turned off by signatureFormats", sig.Format)
	}
	switch sig.Format {
	case protocol.FormatSigstoreJSON:
		return e.evaluateLegacy(sig)
	default:
		return e.evaluateBundle(sig)
	}
}

// bindLegacyPayload checks that a verified cosign payload names this manifest and
// an acceptable reference, as sigstoreSigned does.
func (e *evaluation) bindLegacyPayload(payload *simpleSigningPayload, verified *verifiedSignature) outcome {
	matches, err := manifest.MatchesDigest(e.image.Manifest, payload.dockerManifestDigest)
	if err != nil {
		return reject("signature names manifest digest %s, which cannot be checked: %v", payload.dockerManifestDigest, err)
	}
	if !matches {
		return reject("signature is for manifest digest %s, not this manifest (%s)", payload.dockerManifestDigest, e.manifestDigest)
	}
	ref := payload.dockerReference
	if err := e.checkSignedReference(&ref); err != nil {
		return outcome{err: err}
	}
	return outcome{accepted: verified, signed: &ref}
}

// checkSignedReference applies signedIdentity to the reference a signature names;
// nil means it names none (a cosign v3 bundle).
func (e *evaluation) checkSignedReference(signed *string) error {
	si := e.cfg.signedIdentity
	if si.kind == signedIdentityDigestOnly {
		return nil
	}
	if signed == nil {
		return rejectf("signature names no image, only its digest; signedIdentity %s needs a reference (use {\"type\": \"digestOnly\"} to accept digest-only signatures)", si.kind)
	}
	if !si.matches(e.image.DockerReference, *signed) {
		return rejectf("%s", si.rejectionReason(e.image.DockerReference, *signed))
	}
	return nil
}

func accepted(via string, index int, format string, out outcome) *protocol.Accepted {
	a := &protocol.Accepted{
		Via:             via,
		Signature:       index,
		Format:          format,
		Issuer:          out.accepted.issuer,
		Subject:         out.accepted.subject,
		PublicKey:       out.accepted.publicKey,
		SignedReference: out.signed,
	}
	if out.accepted.time != nil {
		t := formatTime(*out.accepted.time)
		a.Time = &t
	}
	return a
}

func acceptReason(a *protocol.Accepted) string {
	reason := fmt.Sprintf("signature %d accepted", a.Signature)
	if who := acceptedBy(a); who != "" {
		reason += ": " + who
	}
	return reason
}

// acceptedBy names who made an accepted signature: the certificate's issuer
// and subject, or the key.
func acceptedBy(a *protocol.Accepted) string {
	switch {
	case a.Subject != nil:
		return fmt.Sprintf("issuer %s, subject %s", *a.Issuer, *a.Subject)
	case a.PublicKey != nil:
		return "public key " + *a.PublicKey
	default:
		return ""
	}
}

func (c *Config) enabledFormats() []string {
	var out []string
	for _, f := range SignatureFormats() {
		if c.formats[f] {
			out = append(out, f)
		}
	}
	return out
}
