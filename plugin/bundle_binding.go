package plugin

import (
	"fmt"
	"slices"
	"strings"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"go.podman.io/image/v5/docker/reference"
)

// bindBundle decides what a verified bundle says about this image. sigstore-go
// has already bound the digest (WithArtifactDigest): a message signature's digest
// equals the manifest's, an in-toto statement has a subject with it. Here the
// statement is read only from the envelope payload whose signature sigstore-go
// verified (verified.statement), with in-toto's JSON names
// (parseInTotoStatement): its predicate type must be allowed, and the names of
// the subjects with this digest are the references the signature names.
func (e *evaluation) bindBundle(v *verified, u *untrustedBundle, verified *verifiedSignature) outcome {
	if v.result.Statement == nil {
		// A message signature signs the digest alone, so it names no image. The
		// digest algorithm is checked because sigstore-go compares digest bytes.
		if alg := u.GetMessageSignature().GetMessageDigest().GetAlgorithm(); alg != protocommon.HashAlgorithm_SHA2_256 {
			return reject("message signature digest algorithm is %s, not SHA2_256", alg)
		}
		return e.signedReferences(nil, verified)
	}
	// The DSSE signature sigstore-go verified covers this payload; the
	// statement is read from it by in-toto's JSON names, not from
	// result.Statement, which protojson read.
	verifiedStatement, err := parseInTotoStatement(v.statement)
	if err != nil {
		return reject("signed statement is not a well-formed in-toto statement: %v", err)
	}
	if !slices.Contains(e.cfg.predicateTypes, verifiedStatement.predicateType) {
		return reject("signed statement has predicate type %s, which predicateTypes does not list (%s)",
			verifiedStatement.predicateType, strings.Join(e.cfg.predicateTypes, ", "))
	}
	var names []string
	matched := false
	for _, subject := range verifiedStatement.subjects {
		// Hex is case-insensitive, as sigstore-go's comparison of the decoded bytes.
		if !strings.EqualFold(subject.digest["sha256"], e.manifestDigest.Encoded()) {
			continue
		}
		matched = true
		if name := subject.name; name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	if !matched {
		// sigstore-go checked this already; a disagreement means it and this code
		// read the statement differently, and then neither reading is safe.
		return reject("signed statement has no subject with the manifest digest %s", e.manifestDigest)
	}
	return e.signedReferences(names, verified)
}

// signedReferences applies signedIdentity to the subject names of a verified
// statement. A name that is not a Docker reference (a file name, a package URL)
// names no image. With several names, the first one signedIdentity accepts wins.
func (e *evaluation) signedReferences(names []string, verified *verifiedSignature) outcome {
	var refs, others []string
	for _, name := range names {
		if _, err := reference.ParseNormalizedNamed(name); err == nil {
			refs = append(refs, name)
		} else {
			others = append(others, name)
		}
	}
	if len(refs) == 0 {
		if err := e.checkSignedReference(nil); err != nil {
			if len(others) > 0 {
				err = rejectBecause(err, fmt.Sprintf("subject names %s are not image references: %v", strings.Join(others, ", "), err))
			}
			return outcome{err: err}
		}
		return outcome{accepted: verified}
	}
	var first error
	for _, ref := range refs {
		signed := ref
		err := e.checkSignedReference(&signed)
		if err == nil {
			return outcome{accepted: verified, signed: &signed}
		}
		if first == nil {
			first = err
		}
	}
	return outcome{err: first}
}
