package strictjson

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
)

// Object is one JSON object being decoded member by member. Every getter claims its
// key; Close reports the first key nobody claimed. Keys match by exact case.
//
// An Object assumes its document passed Validate, which already rejected duplicate
// keys: decoding the members into a map would otherwise silently keep the last one.
// Parse and ParseText validate and open a document's root in one call; NewObject
// is for values inside it.
type Object struct {
	Path    Path
	members map[string]json.RawMessage
	claimed map[string]bool
}

// NewObject starts decoding raw, which must be a JSON object, found at path.
func NewObject(path Path, raw json.RawMessage) (*Object, error) {
	if kindOf(raw) != '{' {
		return nil, errorf(path, "must be an object, got "+describe(raw))
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, errorf(path, "malformed JSON object: "+err.Error())
	}
	return &Object{Path: path, members: members, claimed: map[string]bool{}}, nil
}

// Has reports whether key is present (even with a null value), without claiming it.
func (o *Object) Has(key string) bool {
	_, ok := o.members[key]
	return ok
}

// Raw claims key and returns its raw value; ok is false when key is absent.
func (o *Object) Raw(key string) (raw json.RawMessage, ok bool) {
	raw, ok = o.members[key]
	if ok {
		o.claimed[key] = true
	}
	return raw, ok
}

// String claims key, which must be absent or a JSON string.
func (o *Object) String(key string) (value string, present bool, err error) {
	raw, ok := o.Raw(key)
	if !ok {
		return "", false, nil
	}
	s, err := String(o.Path.Key(key), raw)
	return s, true, err
}

// NullableString claims key, which must be absent, null or a JSON string.
// value is nil for absent and null.
func (o *Object) NullableString(key string) (value *string, err error) {
	raw, ok := o.Raw(key)
	if !ok || kindOf(raw) == 'n' {
		return nil, nil
	}
	s, err := String(o.Path.Key(key), raw)
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// Bool claims key, which must be absent or true or false.
func (o *Object) Bool(key string) (value bool, present bool, err error) {
	raw, ok := o.Raw(key)
	if !ok {
		return false, false, nil
	}
	switch kindOf(raw) {
	case 't':
		return true, true, nil
	case 'f':
		return false, true, nil
	default:
		return false, true, errorf(o.Path.Key(key), "must be true or false, got "+describe(raw))
	}
}

// Base64 claims key, which must be absent or a string of standard, padded base64.
func (o *Object) Base64(key string) (value []byte, present bool, err error) {
	raw, ok := o.Raw(key)
	if !ok {
		return nil, false, nil
	}
	b, err := Base64(o.Path.Key(key), raw)
	return b, true, err
}

// Close reports the first unclaimed key (in sorted order, so errors are stable).
func (o *Object) Close() error {
	keys := make([]string, 0, len(o.members))
	for k := range o.members {
		if !o.claimed[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	slices.Sort(keys)
	return errorf(o.Path, fmt.Sprintf("unknown field %q", keys[0]))
}

// String decodes raw, which must be a JSON string.
func String(path Path, raw json.RawMessage) (string, error) {
	if kindOf(raw) != '"' {
		return "", errorf(path, "must be a string, got "+describe(raw))
	}
	if s, ok := plainString(raw); ok {
		return s, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", errorf(path, "malformed string: "+err.Error())
	}
	return s, nil
}

// plainString reads a JSON string literal with no escapes and only printable
// ASCII, which is its own content. Base64 and hex values are such strings, and
// encoding/json would scan them twice (to validate, then to decode): for a
// Rekor SET's 2-3 KB body that cost as much as the rest of reading the SET.
func plainString(raw json.RawMessage) (string, bool) {
	raw = bytes.Trim(raw, " \t\r\n")
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	content := raw[1 : len(raw)-1]
	for _, c := range content {
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(content), true
}

// Base64 decodes raw, a JSON string holding standard padded base64 with no line breaks.
func Base64(path Path, raw json.RawMessage) ([]byte, error) {
	s, err := String(path, raw)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil || bytes.ContainsAny([]byte(s), "\r\n") {
		return nil, errorf(path, "invalid base64")
	}
	return b, nil
}

// Array decodes raw, which must be a JSON array, into its raw elements.
func Array(path Path, raw json.RawMessage) ([]json.RawMessage, error) {
	if kindOf(raw) != '[' {
		return nil, errorf(path, "must be an array, got "+describe(raw))
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, errorf(path, "malformed array: "+err.Error())
	}
	return elems, nil
}

// StringArray decodes raw, which must be an array of strings.
func StringArray(path Path, raw json.RawMessage) ([]string, error) {
	elems, err := Array(path, raw)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if out[i], err = String(path.Index(i), e); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// StringMap decodes raw, which must be an object whose values are all strings.
func StringMap(path Path, raw json.RawMessage) (map[string]string, error) {
	obj, err := NewObject(path, raw)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(obj.members))
	for k, v := range obj.members {
		if out[k], err = String(path.Key(k), v); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// IsNull reports whether raw is the JSON literal null.
func IsNull(raw json.RawMessage) bool {
	return kindOf(raw) == 'n'
}

// kindOf returns the first significant byte of raw: '{', '[', '"', 't', 'f', 'n', or
// a digit or '-' for numbers; 0 for empty input.
func kindOf(raw json.RawMessage) byte {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 {
		return 0
	}
	return trimmed[0]
}

func describe(raw json.RawMessage) string {
	switch kindOf(raw) {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	default:
		return "a number"
	}
}
