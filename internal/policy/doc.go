// Package policy reads a containers-policy.json(5) file that may hold plugin
// requirements ({"type": "plugin", "plugin": NAME, "config": {...}}), which
// containers/image's own parser refuses as an unknown type.
//
// It parses the document itself, strictly (one JSON value, no duplicate keys
// at any depth, no unknown keys), keeps every requirement's exact bytes and
// JSON path, checks plugin requirements' shape, and hands each built-in
// requirement to containers/image's parser on its own, so that its errors are
// containers/image's and land on the right path. Scope lookup (Lookup) is
// containers/image's, step for step.
package policy
