package plugin

import (
	"strings"

	"go.podman.io/image/v5/docker/reference"
)

// matches tells whether a signature naming signedRef may be used for an image the
// user asked for by imageRef (nil when the transport has no Docker reference). It
// follows containers/image's PolicyReferenceMatch implementations exactly,
// including their refusal of name-only references where an exact one is meant.
func (s signedIdentity) matches(imageRef *string, signedRef string) bool {
	switch s.kind {
	case signedIdentityExactReference:
		intended, signed, ok := parseBoth(s.dockerReference, signedRef)
		return ok && !reference.IsNameOnly(intended) && !reference.IsNameOnly(signed) && signed.String() == intended.String()
	case signedIdentityExactRepository:
		intended, signed, ok := parseBoth(s.dockerRepository, signedRef)
		return ok && signed.Name() == intended.Name()
	}

	if imageRef == nil {
		return false
	}
	intended, signed, ok := parseBoth(*imageRef, signedRef)
	if !ok {
		return false
	}
	switch s.kind {
	case signedIdentityMatchExact:
		return !reference.IsNameOnly(intended) && !reference.IsNameOnly(signed) && signed.String() == intended.String()
	case signedIdentityMatchRepoDigestOrExact:
		return matchRepoDigestOrExact(intended, signed)
	case signedIdentityMatchRepository:
		return signed.Name() == intended.Name()
	case signedIdentityRemapIdentity:
		remapped, ok := s.remap(intended)
		return ok && matchRepoDigestOrExact(remapped, signed)
	default: // digestOnly never gets here: callers check it before any reference
		return false
	}
}

func parseBoth(intended, signed string) (reference.Named, reference.Named, bool) {
	i, err := reference.ParseNormalizedNamed(intended)
	if err != nil {
		return nil, nil, false
	}
	s, err := reference.ParseNormalizedNamed(signed)
	if err != nil {
		return nil, nil, false
	}
	return i, s, true
}

// matchRepoDigestOrExact: a tagged image needs a signature for exactly that tag; an
// image pulled by digest accepts a signature for any tag of the repository, because
// the digest itself is bound to the manifest separately.
func matchRepoDigestOrExact(intended, signed reference.Named) bool {
	if reference.IsNameOnly(signed) {
		return false
	}
	switch intended.(type) {
	case reference.NamedTagged: // also when it has both a tag and a digest
		return signed.String() == intended.String()
	case reference.Canonical:
		return signed.Name() == intended.Name()
	default:
		return false
	}
}

// remap rewrites intended when its name starts with the prefix, as
// prmRemapIdentity.remapReferencePrefix does; ok is false if the result is invalid.
func (s signedIdentity) remap(intended reference.Named) (reference.Named, bool) {
	name := intended.Name()
	matches := name == s.prefix ||
		(len(name) > len(s.prefix) && strings.HasPrefix(name, s.prefix) && name[len(s.prefix)] == '/')
	if !matches {
		return intended, true
	}
	rewritten := strings.Replace(intended.String(), s.prefix, s.signedPrefix, 1)
	ref, err := reference.ParseNamed(rewritten)
	if err != nil {
		return nil, false
	}
	return ref, true
}
