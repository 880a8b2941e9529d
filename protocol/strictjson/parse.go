package strictjson

import "encoding/json"

// Parse validates data with Validate's rules and opens the object at its root,
// in one call: the way to read a document whose bytes nobody has validated yet.
// NewObject alone decodes members into a map and would keep the last of two
// duplicate keys; it is for values inside a document that Parse opened.
func Parse(data []byte, root Path) (*Object, error) {
	if err := Validate(data, root); err != nil {
		return nil, err
	}
	return NewObject(root, data)
}

// ParseText is Parse with ValidateText's rules: every string well-formed
// Unicode. Protocol messages and the documents they carry (config, bundles) are
// read with it.
func ParseText(data []byte, root Path) (*Object, error) {
	if err := ValidateText(data, root); err != nil {
		return nil, err
	}
	return NewObject(root, data)
}

// IsObject reports whether raw, a value of a validated document, is an object,
// without decoding it.
func IsObject(raw json.RawMessage) bool {
	return kindOf(raw) == '{'
}
