package protocol

import (
	"strings"
	"unicode"
)

// PluginError says why a plugin could not be used or why its answer was not
// believed. For Verify it is a rejection, never an accept.
type PluginError struct {
	Plugin  string // the plugin's name
	Command string // metadata, validate-config or verify; empty when nothing ran
	// Code is the plugin's error code when it answered with an Error object
	// (exit status 1), e.g. INVALID_CONFIG; empty otherwise.
	Code string
	// Message is one line: what went wrong, with the plugin's own message or the
	// last line of its stderr when there is one.
	Message string
}

func (e *PluginError) Error() string {
	s := "plugin " + quote(e.Plugin)
	if e.Command != "" {
		s += " " + e.Command
	}
	if e.Code != "" {
		return s + ": " + e.Code + ": " + e.Message
	}
	return s + ": " + e.Message
}

func quote(s string) string { return `"` + OneLine(s) + `"` }

// maxLineBytes bounds every plugin-provided text the host repeats, so that a
// plugin cannot flood logs through the host.
const maxLineBytes = 1024

// OneLine makes untrusted text fit on one line of a log or terminal: invalid
// UTF-8 replaced, control characters (newlines, escape sequences) turned into
// spaces, runs of spaces collapsed, at most maxLineBytes bytes.
func OneLine(untrusted string) string {
	s := strings.ToValidUTF8(untrusted, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > maxLineBytes {
		cut := maxLineBytes
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// lastLine is the last non-blank line of a plugin's stderr, for error messages.
func lastLine(stderr []byte) string {
	lines := strings.Split(strings.TrimRight(string(stderr), " \t\r\n"), "\n")
	return OneLine(lines[len(lines)-1])
}
