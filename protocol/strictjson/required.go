package strictjson

import "encoding/json"

// Required claims key, which must be present (null counts as present); the
// error names the key's path. It is the one "required field is missing" of
// every decoder built on Object.
func (o *Object) Required(key string) (json.RawMessage, error) {
	raw, ok := o.Raw(key)
	if !ok {
		return nil, errorf(o.Path.Key(key), "required field is missing")
	}
	return raw, nil
}

// RequiredString claims key, which must be present and a JSON string.
func (o *Object) RequiredString(key string) (string, error) {
	raw, err := o.Required(key)
	if err != nil {
		return "", err
	}
	return String(o.Path.Key(key), raw)
}
