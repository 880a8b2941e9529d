package check

import (
	"strings"
	"testing"
)

// TestSendableBundle: a bundle that would make a plugin refuse the whole
// request is left out, whatever rule it breaks.
func TestSendableBundle(t *testing.T) {
	for _, tc := range []struct{ name, bundle, err string }{
		{"a well-formed bundle is sent", `{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "x": "\u00e9"}`, ""},
		{"a duplicate key is left out", `{"x": 1, "x": 2}`, `bundle: duplicate key "x"`},
		{"an unpaired surrogate is left out", `{"x": "\ud800"}`, "bundle.x: string is not well-formed Unicode"},
		{"invalid UTF-8 is left out", "{\"x\": \"\xff\"}", "bundle.x: string is not well-formed Unicode"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := sendableBundle([]byte(tc.bundle))
			if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
				t.Fatalf("sendableBundle: %v, want %q", err, tc.err)
			}
		})
	}
}
