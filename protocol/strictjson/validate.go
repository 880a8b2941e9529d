package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// MaxDepth bounds nesting. Sigstore bundles nest about eight levels deep; anything far
// deeper is an attack on the decoder, not a signature.
const MaxDepth = 64

// Validate checks the document-level rules on data before anything is decoded from
// it: exactly one JSON value, no trailing data, valid syntax, no duplicate object
// keys at any depth and nesting of at most MaxDepth. root names the document in
// error paths (usually "").
func Validate(data []byte, root Path) error {
	if obviouslyValid(data) {
		return nil
	}
	return validateWithPaths(data, root)
}

// obviouslyValid is Validate's fast path for the documents that pass: one
// syntax check by encoding/json's scanner, then one pass over the bytes for
// nesting and duplicate keys, with no tokens allocated. It answers false for
// anything it does not settle, such as a key with escapes or non-ASCII bytes
// (compared decoded, they need the decoder), and for every failure, so that
// validateWithPaths always gives the reason and its path.
// FuzzValidateFastPath checks it never accepts what validateWithPaths refuses.
func obviouslyValid(data []byte) bool {
	if !json.Valid(data) {
		return false
	}
	type frame struct {
		object, wantKey bool
		keys            map[string]struct{}
	}
	var stack []frame
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '{', '[':
			if len(stack) >= MaxDepth {
				return false
			}
			stack = append(stack, frame{object: data[i] == '{', wantKey: data[i] == '{'})
		case '}', ']':
			stack = stack[:len(stack)-1]
		case ',':
			if top := len(stack) - 1; top >= 0 && stack[top].object {
				stack[top].wantKey = true
			}
		case '"':
			end := i + 1
			plain := true
			for data[end] != '"' {
				if data[end] == '\\' {
					plain = false
					end++
				} else if data[end] >= 0x80 {
					plain = false
				}
				end++
			}
			if top := len(stack) - 1; top >= 0 && stack[top].wantKey {
				if !plain {
					return false
				}
				f := &stack[top]
				if f.keys == nil {
					f.keys = map[string]struct{}{}
				}
				if _, dup := f.keys[string(data[i+1:end])]; dup {
					return false
				}
				f.keys[string(data[i+1:end])] = struct{}{}
				f.wantKey = false
			}
			i = end
		}
	}
	return true
}

// validateWithPaths walks the document token by token, naming the path of the
// first problem it finds.
func validateWithPaths(data []byte, root Path) error {
	w := walker{dec: newDecoder(data)}
	return w.document(root)
}

func newDecoder(data []byte) *json.Decoder {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers are only skipped here; don't pay for float parsing
	return dec
}

type walker struct {
	dec *json.Decoder
	// With text set, every string token is checked in data, the document's
	// bytes, for well-formed Unicode (ValidateText).
	data []byte
	text bool
}

func (w *walker) document(root Path) error {
	if err := w.value(root, 0); err != nil {
		return err
	}
	if _, err := w.dec.Token(); err != io.EOF {
		return errorf(root, "trailing data after the JSON value")
	}
	return nil
}

func (w *walker) token(path Path) (json.Token, error) {
	start := w.dec.InputOffset()
	tok, err := w.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf(path, "unexpected end of JSON input")
		}
		return nil, errorf(path, "malformed JSON: "+err.Error())
	}
	if _, isString := tok.(string); isString && w.text {
		// Between the previous token and this string lie only white space, ':'
		// and ',': the first quote opens it, and the decoder stops after it.
		literal := w.data[start:w.dec.InputOffset()]
		literal = literal[bytes.IndexByte(literal, '"'):]
		if !wellFormed(literal[1 : len(literal)-1]) {
			return nil, errorf(path, "string is not well-formed Unicode (invalid UTF-8 or an unpaired surrogate escape): "+
				"it would be decoded as U+FFFD, not as the bytes sent")
		}
	}
	return tok, nil
}

func (w *walker) value(path Path, depth int) error {
	tok, err := w.token(path)
	if err != nil {
		return err
	}
	delim, ok := tok.(json.Delim)
	if !ok {
		return nil
	}
	if depth >= MaxDepth {
		return errorf(path, fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth))
	}
	switch delim {
	case '{':
		return w.object(path, depth+1)
	case '[':
		return w.array(path, depth+1)
	default:
		return errorf(path, fmt.Sprintf("malformed JSON: unexpected %q", delim))
	}
}

func (w *walker) object(path Path, depth int) error {
	seen := map[string]struct{}{}
	for w.dec.More() {
		tok, err := w.token(path)
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errorf(path, "malformed JSON: object key is not a string")
		}
		if _, dup := seen[key]; dup {
			return errorf(path, fmt.Sprintf("duplicate key %q", key))
		}
		seen[key] = struct{}{}
		if err := w.value(path.Key(key), depth); err != nil {
			return err
		}
	}
	_, err := w.token(path) // the closing '}'
	return err
}

func (w *walker) array(path Path, depth int) error {
	for i := 0; w.dec.More(); i++ {
		if err := w.value(path.Index(i), depth); err != nil {
			return err
		}
	}
	_, err := w.token(path) // the closing ']'
	return err
}
