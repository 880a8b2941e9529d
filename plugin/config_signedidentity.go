package plugin

import (
	"regexp"
	"sync"

	"go.podman.io/image/v5/docker/reference"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// signedIdentity types: containers/image's six, plus digestOnly.
const (
	signedIdentityMatchExact             = "matchExact"
	signedIdentityMatchRepoDigestOrExact = "matchRepoDigestOrExact"
	signedIdentityMatchRepository        = "matchRepository"
	signedIdentityExactReference         = "exactReference"
	signedIdentityExactRepository        = "exactRepository"
	signedIdentityRemapIdentity          = "remapIdentity"
	signedIdentityDigestOnly             = "digestOnly"
)

// signedIdentity says which reference a signature must name, with the JSON and the
// semantics of containers/image's PolicyReferenceMatch.
type signedIdentity struct {
	kind             string
	dockerReference  string // exactReference
	dockerRepository string // exactRepository
	prefix           string // remapIdentity
	signedPrefix     string // remapIdentity
}

func parseSignedIdentity(p *problems, obj *strictjson.Object) signedIdentity {
	raw, ok := obj.Raw("signedIdentity")
	if !ok {
		return signedIdentity{kind: signedIdentityMatchRepoDigestOrExact}
	}
	path := configPath.Key("signedIdentity")
	si, err := strictjson.NewObject(path, raw)
	if err != nil {
		p.failErr(path, err)
		return signedIdentity{}
	}
	kind, present, err := si.String("type")
	if err != nil || !present {
		if err == nil {
			p.fail(path.Key("type"), "required field is missing")
		} else {
			p.failErr(path, err)
		}
		return signedIdentity{}
	}
	out := signedIdentity{kind: kind}
	str := func(key string) string {
		v, present, err := si.String(key)
		switch {
		case err != nil:
			p.failErr(path, err)
		case !present:
			p.fail(path.Key(key), "required field is missing")
		}
		return v
	}
	switch kind {
	case signedIdentityMatchExact, signedIdentityMatchRepoDigestOrExact, signedIdentityMatchRepository, signedIdentityDigestOnly:
	case signedIdentityExactReference:
		out.dockerReference = str("dockerReference")
		if ref, err := reference.ParseNormalizedNamed(out.dockerReference); err != nil {
			p.fail(path.Key("dockerReference"), "invalid reference %q: %v", out.dockerReference, err)
		} else if reference.IsNameOnly(ref) {
			p.fail(path.Key("dockerReference"), "%q contains neither a tag nor a digest", out.dockerReference)
		}
	case signedIdentityExactRepository:
		out.dockerRepository = str("dockerRepository")
		if _, err := reference.ParseNormalizedNamed(out.dockerRepository); err != nil {
			p.fail(path.Key("dockerRepository"), "invalid repository %q: %v", out.dockerRepository, err)
		}
	case signedIdentityRemapIdentity:
		out.prefix = str("prefix")
		out.signedPrefix = str("signedPrefix")
		for key, value := range map[string]string{"prefix": out.prefix, "signedPrefix": out.signedPrefix} {
			if !validRemapPrefix(value) {
				p.fail(path.Key(key), "prefix %q is not valid: use a host[:port], or host[:port]/namespace...", value)
			}
		}
	default:
		p.fail(path.Key("type"), "unknown signedIdentity type %q", kind)
	}
	if err := si.Close(); err != nil {
		p.failErr(path, err)
	}
	return out
}

// The remapIdentity prefix rules of containers/image (validateIdentityRemappingPrefix),
// compiled on first use so that start-up stays light.
var remapPrefixRegexps = sync.OnceValue(func() [3]*regexp.Regexp {
	return [3]*regexp.Regexp{
		regexp.MustCompile("^" + reference.DomainRegexp.String() + "$"),
		regexp.MustCompile("^" + reference.NameRegexp.String() + "$"),
		regexp.MustCompile("^" + reference.DomainRegexp.String() + "/"),
	}
})

func validRemapPrefix(s string) bool {
	re := remapPrefixRegexps()
	return re[0].MatchString(s) || (re[1].MatchString(s) && re[2].MatchString(s))
}
