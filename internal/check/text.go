package check

import (
	"strings"
	"unicode"
)

// oneLine keeps untrusted text (a plugin's reason, a registry's error) on one
// line of a terminal: no control characters, no escape sequences.
func oneLine(untrusted string) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(untrusted, "\uFFFD"))
	return strings.Join(strings.Fields(s), " ")
}

// pluginPath places a plugin's config path (config.identities[0]) under the
// requirement's path.
func pluginPath(requirement, untrustedPath string) string {
	p := oneLine(untrustedPath)
	if p == "" {
		return requirement
	}
	return requirement + "." + p
}
