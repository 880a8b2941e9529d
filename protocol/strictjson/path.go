// Package strictjson decodes JSON the way a security-relevant protocol must: one
// value and nothing after it, no duplicate keys at any depth, keys matched by exact
// case, every key claimed by the caller, and every error named by its JSON path.
//
// encoding/json alone is too lenient for that: it keeps the last of two duplicate
// keys, matches struct fields case-insensitively and reports unknown fields without
// saying where they are. This package uses only the standard library so that the
// protocol package stays vendorable by containers/image.
package strictjson

import "strconv"

// Path is a JSON path as error messages show it, e.g. config.identities[1].subjectRegexp.
// The empty Path is the document root.
type Path string

// Key returns the path of the member key of the object at p.
func (p Path) Key(key string) Path {
	if p == "" {
		return Path(key)
	}
	return p + "." + Path(key)
}

// Index returns the path of element i of the array at p.
func (p Path) Index(i int) Path {
	return p + Path("["+strconv.Itoa(i)+"]")
}

func (p Path) String() string {
	if p == "" {
		return "(root)"
	}
	return string(p)
}

// Error is a decoding error at a JSON path.
type Error struct {
	Path    Path
	Message string
}

func (e *Error) Error() string {
	return e.Path.String() + ": " + e.Message
}

func errorf(path Path, message string) *Error {
	return &Error{Path: path, Message: message}
}
