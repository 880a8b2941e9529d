package plugin

import (
	"regexp"
	"regexp/syntax"
	"strings"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// compileFullMatch compiles an RE2 pattern that must match the WHOLE value.
// cosign and sigstore-go match unanchored, so there `github\.com/org/` also accepts
// `https://evil.example/?github.com/org/`; here it cannot. The pattern is compiled
// alone first so that one like `a)|(b` cannot close our group and escape the
// anchors. \A and \z, unlike ^ and $, ignore any (?m) flag inside the pattern.
func compileFullMatch(p *problems, path strictjson.Path, pattern, exactAlternative string) *regexp.Regexp {
	if _, err := regexp.Compile(pattern); err != nil {
		p.fail(path, "invalid regular expression: %v", err)
		return nil
	}
	re, err := regexp.Compile(`\A(?:` + pattern + `)\z`)
	if err != nil {
		p.fail(path, "invalid regular expression: %v", err)
		return nil
	}
	lintPattern(p, path, pattern, exactAlternative)
	return re
}

// lintPattern warns about patterns that are valid but probably not what was meant.
func lintPattern(p *problems, path strictjson.Path, pattern, exactAlternative string) {
	if regexp.QuoteMeta(pattern) == pattern {
		p.warn(path, "has no metacharacters: use %s for an exact match", exactAlternative)
		return
	}
	if strings.HasPrefix(pattern, "^") || strings.HasSuffix(pattern, "$") {
		p.warn(path, "is always matched in full: the ^ and $ anchors are redundant")
	}
	if strings.HasPrefix(pattern, ".*") || strings.HasPrefix(pattern, "^.*") {
		p.warn(path, "starts with .*, so any prefix matches (e.g. https://evil.example/?...): start with the scheme and host")
	}
	tree, err := syntax.Parse(pattern, syntax.Perl)
	if err == nil && hasBareAnyChar(tree, false) {
		p.warn(path, "has an unescaped '.', which matches any character: write \\. for a literal dot")
	}
}

// hasBareAnyChar finds a '.' that is not repeated: `github.com` (probably meant
// literally) but not `.*` or `.+` (meant as a wildcard).
func hasBareAnyChar(re *syntax.Regexp, repeated bool) bool {
	switch re.Op {
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return !repeated
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		for _, sub := range re.Sub {
			if hasBareAnyChar(sub, true) {
				return true
			}
		}
		return false
	}
	for _, sub := range re.Sub {
		if hasBareAnyChar(sub, false) {
			return true
		}
	}
	return false
}
