package strictjson

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// ValidateText is Validate plus one rule for the protocol's messages: every
// string, key or value, is well-formed Unicode: valid UTF-8 and no unpaired
// surrogate escape ("\ud800"). encoding/json decodes either into U+FFFD, so a
// requestID would be echoed, or a configured subject matched, as something
// other than the bytes that were sent; the protocol is byte-exact, so such a
// string is refused (RFC 8259 section 8.1, RFC 7493 section 2.1).
func ValidateText(data []byte, root Path) error {
	if err := Validate(data, root); err != nil {
		return err
	}
	// Outside its strings a valid document is ASCII, so the whole document is
	// valid UTF-8 exactly when its strings are; only \u escapes need a look.
	if utf8.Valid(data) && !bytes.Contains(data, []byte(`\u`)) {
		return nil
	}
	if stringsWellFormed(data) {
		return nil
	}
	w := walker{dec: newDecoder(data), data: data, text: true}
	return w.document(root)
}

// stringsWellFormed checks every string literal of data, a document that
// passed Validate.
func stringsWellFormed(data []byte) bool {
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		end := i + 1
		for data[end] != '"' {
			if data[end] == '\\' {
				end++
			}
			end++
		}
		if !wellFormed(data[i+1 : end]) {
			return false
		}
		i = end
	}
	return true
}

// wellFormed reports whether the content of a syntactically valid JSON string
// literal decodes without replacement: valid UTF-8, every \u escape of a high
// surrogate followed by one of a low surrogate, no low surrogate alone.
func wellFormed(content []byte) bool {
	for i := 0; i < len(content); {
		switch c := content[i]; {
		case c == '\\' && content[i+1] == 'u':
			r := hex4(content[i+2 : i+6])
			i += 6
			if !utf16.IsSurrogate(r) {
				continue
			}
			if r >= 0xdc00 || i+6 > len(content) || content[i] != '\\' || content[i+1] != 'u' {
				return false
			}
			if low := hex4(content[i+2 : i+6]); low < 0xdc00 || low > 0xdfff {
				return false
			}
			i += 6
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(content[i:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			i += size
		}
	}
	return true
}

// hex4 decodes the four hex digits of a \u escape that encoding/json's
// scanner has already accepted.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		default:
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
