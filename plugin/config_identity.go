package plugin

import (
	"encoding/json"
	"regexp"
	"strings"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// identity is one accepted signer: every field that is set must match.
type identity struct {
	path          strictjson.Path
	issuer        string
	issuerRegexp  *regexp.Regexp
	subjectEmail  string
	subjectURI    string
	subjectRegexp *regexp.Regexp
	extensions    []extensionPin
}

// parseIdentities reads the identities list or the sigstoreSigned-style shorthand in
// fulcio. Key mode takes neither: a public key has no identity to match.
func parseIdentities(p *problems, obj, fulcio *strictjson.Object, t *trust) []*identity {
	shorthand := fulcio != nil && (fulcio.Has("oidcIssuer") || fulcio.Has("subjectEmail") || fulcio.Has("subjectURI") || fulcio.Has("subjectRegexp"))
	rawList, hasList := obj.Raw("identities")
	listPath := configPath.Key("identities")

	if t != nil && t.keys != nil {
		if hasList || shorthand {
			p.fail(listPath, "identities match certificates; a config with keyPath/keyData trusts keys and accepts no certificate")
		}
		return nil
	}
	switch {
	case hasList && shorthand:
		p.fail(listPath, "conflicts with the fulcio.oidcIssuer/subject* shorthand: use one or the other")
		return nil
	case shorthand:
		id := parseShorthand(p, fulcio)
		if id == nil {
			return nil
		}
		return []*identity{id}
	case hasList:
		elems, err := strictjson.Array(listPath, rawList)
		if err != nil {
			p.failErr(listPath, err)
			return nil
		}
		if len(elems) == 0 {
			p.fail(listPath, "must list at least one identity")
			return nil
		}
		var ids []*identity
		for i, e := range elems {
			if id := parseIdentity(p, listPath.Index(i), e); id != nil {
				ids = append(ids, id)
			}
		}
		return ids
	default:
		if t != nil {
			p.fail(listPath, "certificate signatures need identities (or fulcio.oidcIssuer with subjectEmail, subjectURI or subjectRegexp): a trusted CA alone would accept anyone it ever issued to")
		}
		return nil
	}
}

func parseIdentity(p *problems, path strictjson.Path, raw json.RawMessage) *identity {
	obj, err := strictjson.NewObject(path, raw)
	if err != nil {
		p.failErr(path, err)
		return nil
	}
	id := &identity{path: path}
	before := len(p.errors)
	parseIssuer(p, obj, "issuer", "issuerRegexp", id)
	parseSubject(p, obj, id)
	if rawExt, ok := obj.Raw("extensions"); ok {
		id.extensions = parseExtensionPins(p, path.Key("extensions"), rawExt)
	}
	if err := obj.Close(); err != nil {
		p.failErr(path, err)
	}
	if len(p.errors) != before {
		return nil
	}
	return id
}

// parseShorthand reads sigstoreSigned's one-identity form: fulcio.oidcIssuer plus
// one subject field.
func parseShorthand(p *problems, fulcio *strictjson.Object) *identity {
	id := &identity{path: fulcio.Path}
	before := len(p.errors)
	parseIssuer(p, fulcio, "oidcIssuer", "", id)
	parseSubject(p, fulcio, id)
	if len(p.errors) != before {
		return nil
	}
	return id
}

func parseIssuer(p *problems, obj *strictjson.Object, exactKey, regexpKey string, id *identity) {
	exact, hasExact, err := obj.String(exactKey)
	if err != nil {
		p.failErr(obj.Path, err)
		return
	}
	var pattern string
	hasRegexp := false
	if regexpKey != "" {
		if pattern, hasRegexp, err = obj.String(regexpKey); err != nil {
			p.failErr(obj.Path, err)
			return
		}
	}
	switch {
	case hasExact && hasRegexp:
		p.fail(obj.Path.Key(regexpKey), "conflicts with %s: use exactly one", exactKey)
	case hasExact:
		if exact == "" {
			p.fail(obj.Path.Key(exactKey), "must not be empty")
		}
		id.issuer = exact
		lintExactIssuer(p, obj.Path.Key(exactKey), exact)
	case hasRegexp:
		id.issuerRegexp = compileFullMatch(p, obj.Path.Key(regexpKey), pattern, exactKey)
		lintIssuerBreadth(p, obj.Path.Key(regexpKey), pattern, id.issuerRegexp)
	default:
		if regexpKey == "" {
			p.fail(obj.Path.Key(exactKey), "required field is missing")
		} else {
			p.fail(obj.Path, "%s is required", describeSources(exactKey, regexpKey))
		}
	}
}

func parseSubject(p *problems, obj *strictjson.Object, id *identity) {
	var set []string
	for _, key := range []string{"subjectEmail", "subjectURI", "subjectRegexp"} {
		value, present, err := obj.String(key)
		if err != nil {
			p.failErr(obj.Path, err)
			return
		}
		if !present {
			continue
		}
		set = append(set, key)
		if value == "" {
			p.fail(obj.Path.Key(key), "must not be empty")
			continue
		}
		switch key {
		case "subjectEmail":
			id.subjectEmail = value
			lintSubjectEmail(p, obj.Path.Key(key), value)
		case "subjectURI":
			id.subjectURI = value
			if !strings.Contains(value, "://") {
				p.warn(obj.Path.Key(key), "%q has no scheme; Fulcio URI subjects look like https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main", value)
			}
			lintSubjectURI(p, obj.Path.Key(key), value)
		case "subjectRegexp":
			id.subjectRegexp = compileFullMatch(p, obj.Path.Key(key), value, "subjectURI or subjectEmail")
			lintSubjectBreadth(p, obj.Path.Key(key), value, id.subjectRegexp)
		}
	}
	if len(set) != 1 {
		where := obj.Path
		if len(set) > 1 {
			where = obj.Path.Key(set[1])
		}
		p.fail(where, "%s is required", describeSources("subjectEmail", "subjectURI", "subjectRegexp"))
	}
}

func parseExtensionPins(p *problems, path strictjson.Path, raw json.RawMessage) []extensionPin {
	values, err := strictjson.StringMap(path, raw)
	if err != nil {
		p.failErr(path, err)
		return nil
	}
	var pins []extensionPin
	for _, name := range ExtensionNames() {
		if value, ok := values[name]; ok {
			if value == "" {
				p.fail(path.Key(name), "must not be empty: an empty pin would match a certificate without the extension")
				continue
			}
			pins = append(pins, extensionPin{name: name, value: value, get: fulcioExtensions[name]})
			delete(values, name)
		}
	}
	for name := range values {
		p.fail(path.Key(name), "unknown Fulcio extension %q (known: %s)", name, strings.Join(ExtensionNames(), ", "))
	}
	return pins
}

// pinsRepository reports whether the identity ties signatures to one source
// repository, which is what makes digestOnly safe enough.
func (id *identity) pinsRepository() bool {
	return id.subjectURI != "" || id.subjectEmail != "" || id.pinsSourceRepository()
}
