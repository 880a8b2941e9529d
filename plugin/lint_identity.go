package plugin

import (
	"net/url"
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// Over-broad identity rules are found by what a pattern matches, not by how it
// is spelled: `.+`, `(.*)`, `a|.*`, `(?s).*` and `\S+` are all "anything", and
// `https://github\.com/.+` is every organisation on GitHub. Each pattern is
// tried on probes: subjects and issuers of a host nobody configures, and, for a
// pattern whose own example is a URL or an email address, that example moved to
// another host, another organisation or another EKS cluster. A pattern that
// accepts a probe accepts signers its author did not mean.

const (
	probeHost = "zzprobe.invalid"
	probeOrg  = "zzprobeorg"
)

// genericSubjectProbes are SAN values no configured signer has.
var genericSubjectProbes = []string{
	"https://" + probeHost + "/" + probeOrg + "/repo/.github/workflows/release.yml@refs/heads/main",
	"https://" + probeHost + "/" + probeOrg + "/repo//.gitlab-ci.yml@refs/heads/main",
	"probe@" + probeHost,
}

// genericIssuerProbes are issuers of a host nobody configures and of an EKS
// cluster nobody configures.
var genericIssuerProbes = []string{
	"https://" + probeHost,
	"https://oidc.eks.zz-probe-1.amazonaws.com/id/ZZPROBE0123456789ABCDEF",
}

// lintSubjectBreadth warns when a subjectRegexp accepts a subject from another
// host or another organisation than its own example's.
func lintSubjectBreadth(p *problems, path strictjson.Path, pattern string, re *regexp.Regexp) {
	if re == nil {
		return
	}
	if probe, ok := firstMatch(re, genericSubjectProbes); ok {
		p.warn(path, "%q matches subjects of any host and any organisation (e.g. %s): name the host and the organisation or repository", pattern, probe)
		return
	}
	example, u := exampleOf(pattern, re)
	if u != nil {
		if probe := withHost(u, probeHost); re.MatchString(probe) {
			p.warn(path, "%q matches subjects of any host (e.g. %s): name the host", pattern, probe)
			return
		}
		if probe, ok := withFirstSegment(u, probeOrg); ok && re.MatchString(probe) {
			p.warn(path, "%q matches subjects of any organisation on %s (e.g. %s): name the organisation and repository", pattern, u.Host, probe)
		}
		return
	}
	if at := strings.LastIndexByte(example, '@'); at >= 0 {
		if probe := example[:at+1] + probeHost; re.MatchString(probe) {
			p.warn(path, "%q matches email addresses of any domain (e.g. %s): name the domain", pattern, probe)
		}
	}
}

// lintIssuerBreadth warns when an issuerRegexp accepts an issuer of another
// host, or any EKS cluster where its example is one cluster.
func lintIssuerBreadth(p *problems, path strictjson.Path, pattern string, re *regexp.Regexp) {
	if re == nil {
		return
	}
	if probe, ok := firstMatch(re, genericIssuerProbes); ok {
		p.warn(path, "%q matches issuers nobody configured (e.g. %s): anyone who runs an OIDC provider there gets certificates it accepts; name the issuer", pattern, probe)
		return
	}
	_, u := exampleOf(pattern, re)
	if u == nil {
		return
	}
	if probe := withHost(u, probeHost); re.MatchString(probe) {
		p.warn(path, "%q matches issuers of any host (e.g. %s): name the issuer's host", pattern, probe)
		return
	}
	if strings.HasPrefix(u.Host, "oidc.eks.") && strings.HasSuffix(u.Host, ".amazonaws.com") && strings.HasPrefix(u.Path, "/id/") {
		other := *u
		other.Path = "/id/ZZPROBE0123456789ABCDEF"
		if re.MatchString(other.String()) {
			p.warn(path, "%q matches the issuer of any EKS cluster in its region (e.g. %s): every cluster's workloads get certificates it accepts; name the cluster ID", pattern, other.String())
		}
	}
}

func firstMatch(re *regexp.Regexp, probes []string) (string, bool) {
	for _, probe := range probes {
		if re.MatchString(probe) {
			return probe, true
		}
	}
	return "", false
}

func withHost(u *url.URL, host string) string {
	other := *u
	other.Host = host
	return other.String()
}

// withFirstSegment replaces the first path segment (the organisation, group or
// user on a code host) of u.
func withFirstSegment(u *url.URL, segment string) (string, bool) {
	rest, ok := strings.CutPrefix(u.Path, "/")
	if !ok || rest == "" {
		return "", false
	}
	other := *u
	other.RawPath = ""
	other.Path = "/" + segment
	if _, after, found := strings.Cut(rest, "/"); found {
		other.Path += "/" + after
	}
	return other.String(), true
}

// exampleOf builds one short string the pattern matches: the first alternative,
// one repetition of a star or plus (the minimum of a counted repeat), none of
// an optional part, a letter or digit of a class ('a' for any character). It
// is "" when the result does not match (e.g. \b), and then only the generic
// probes apply; u is the example as a URL with a scheme and host, if it is one.
func exampleOf(pattern string, re *regexp.Regexp) (example string, u *url.URL) {
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return "", nil
	}
	var b strings.Builder
	writeExample(&b, tree.Simplify())
	if example = b.String(); !re.MatchString(example) {
		return "", nil
	}
	if parsed, err := url.Parse(example); err == nil && parsed.Scheme != "" && parsed.Host != "" {
		u = parsed
	}
	return example, u
}

func writeExample(b *strings.Builder, re *syntax.Regexp) {
	switch re.Op {
	case syntax.OpLiteral:
		b.WriteString(string(re.Rune))
	case syntax.OpCharClass:
		b.WriteRune(exampleRune(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a')
	case syntax.OpCapture:
		writeExample(b, re.Sub[0])
	case syntax.OpPlus, syntax.OpStar:
		// One repetition, not none: `https://gitlab\.com/.*` should give a
		// URL with a path whose organisation can be replaced.
		writeExample(b, re.Sub[0])
	case syntax.OpRepeat:
		for range re.Min {
			writeExample(b, re.Sub[0])
		}
	case syntax.OpConcat:
		for _, sub := range re.Sub {
			writeExample(b, sub)
		}
	case syntax.OpAlternate:
		writeExample(b, re.Sub[0])
	}
	// OpQuest, anchors and empty matches contribute nothing.
}

// exampleRune picks a plain character from a class's ranges: a letter or a
// digit where the class has one, so that the example stays a plausible URL.
func exampleRune(ranges []rune) rune {
	for _, want := range []rune{'a', 'A', '0'} {
		for i := 0; i+1 < len(ranges); i += 2 {
			if ranges[i] <= want && want <= ranges[i+1] {
				return want
			}
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		if ranges[i] > ' ' {
			return ranges[i]
		}
	}
	if len(ranges) > 0 {
		return ranges[0]
	}
	return 'a'
}

// lintExactIssuer warns about an exact issuer that cannot be what a
// certificate carries.
func lintExactIssuer(p *problems, path strictjson.Path, issuer string) {
	if strings.TrimSpace(issuer) != issuer {
		p.warn(path, "%q has leading or trailing white space, which no certificate's issuer has: it matches nothing", issuer)
	}
}

// lintSubjectEmail warns about an email subject that is not an address.
func lintSubjectEmail(p *problems, path strictjson.Path, email string) {
	if !strings.Contains(email, "@") {
		p.warn(path, "%q has no @: email subjects are addresses; for a URI subject use subjectURI", email)
	}
}

// regexpSyntax are spellings that mean something in a regexp and are
// unlikely in a Fulcio URI subject.
var regexpSyntax = []string{`\`, ".*", ".+", "[", "]", "(", ")", "|", "^", "$", "{", "}"}

// lintSubjectURI warns about an exact URI subject written as a pattern: it is
// compared byte for byte, so it matches nothing its author meant.
func lintSubjectURI(p *problems, path strictjson.Path, uri string) {
	for _, s := range regexpSyntax {
		if strings.Contains(uri, s) {
			p.warn(path, "%q contains %q, regular expression syntax, but subjectURI matches exactly: use subjectRegexp for a pattern", uri, s)
			return
		}
	}
}

// lintRequireSCT warns when SCTs are turned off although the trust material
// can check them.
func lintRequireSCT(p *problems, path strictjson.Path, present, value bool, t *trust) {
	if present && !value && t != nil && t.keys == nil && t.hasCTLogs() {
		p.warn(path, "is false although the trust material lists CT logs: a certificate Fulcio issued without logging it (mis-issued) would be accepted")
	}
}

// lintDigestOnlyWorkflows warns, under digestOnly, about identities whose
// subject is a GitHub workflow without a source repository pin: a workflow
// can be called as a reusable workflow from any repository, and every caller's
// certificate carries the same subject (the called workflow), so any project
// could sign any digest with it.
func lintDigestOnlyWorkflows(p *problems, c *Config) {
	if c.signedIdentity.kind != signedIdentityDigestOnly {
		return
	}
	for _, id := range c.identities {
		if !strings.Contains(id.subjectURI, "/.github/workflows/") || id.pinsSourceRepository() {
			continue
		}
		p.warn(id.path, "under digestOnly, subject %s may be a reusable workflow: every repository that calls it gets a certificate with this subject; pin the calling repository with extensions.sourceRepositoryURI", id.subjectURI)
	}
}

// pinsSourceRepository reports whether an extension pin names the repository
// the workflow ran for (not the workflow's own, which the subject names).
func (id *identity) pinsSourceRepository() bool {
	for _, pin := range id.extensions {
		for _, name := range repositoryExtensions {
			if pin.name == name {
				return true
			}
		}
	}
	return false
}
