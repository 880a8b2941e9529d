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
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber() // numbers are only skipped here; don't pay for float parsing
	w := walker{dec: dec}
	if err := w.value(root, 0); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(root, "trailing data after the JSON value")
	}
	return nil
}

type walker struct {
	dec *json.Decoder
}

func (w *walker) token(path Path) (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errorf(path, "unexpected end of JSON input")
		}
		return nil, errorf(path, "malformed JSON: "+err.Error())
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
