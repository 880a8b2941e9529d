// Package schema_test checks the JSON Schema documents of the protocol messages
// against example messages, and against what the decoder and the plugin really
// produce, so that the schemas, the Go types and the specification cannot drift.
// A third-party validator is fine here: this test package is not part of the
// stdlib-only protocol package.
package schema_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/policy-plugins/sigstore/plugin"
	"github.com/policy-plugins/sigstore/protocol"
)

func compile(t *testing.T, name string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	s, err := c.Compile(name + ".schema.json")
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, data []byte) error {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return s.Validate(v)
}

// decoders are the strict decoders of the messages a plugin reads.
var decoders = map[string]func([]byte) error{
	"verify-request":          func(b []byte) error { _, err := protocol.DecodeVerifyRequest(b); return err },
	"validate-config-request": func(b []byte) error { _, err := protocol.DecodeValidateConfigRequest(b); return err },
}

func TestExamples(t *testing.T) {
	files, err := filepath.Glob("examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, file := range files {
		base := strings.TrimSuffix(filepath.Base(file), ".json")
		name, variant, _ := strings.Cut(base, ".")
		wantValid := strings.HasPrefix(variant, "valid")
		t.Run(base, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(t, compile(t, name), data); (err == nil) != wantValid {
				t.Fatalf("schema says valid=%v, want %v: %v", err == nil, wantValid, err)
			}
			if decode, ok := decoders[name]; ok {
				if err := decode(data); (err == nil) != wantValid {
					t.Fatalf("decoder says valid=%v, want %v: %v", err == nil, wantValid, err)
				}
			}
		})
	}
}

// TestRealMessagesMatchSchemas runs the plugin's own commands and checks every
// answer against the schema of its kind.
func TestRealMessagesMatchSchemas(t *testing.T) {
	request, err := os.ReadFile("../../testdata/public-good/request.json")
	if err != nil {
		t.Fatal(err)
	}
	rejecting := bytes.Replace(request, []byte("mitr@redhat.com"), []byte("nobody@example.com"), 1)
	t.Chdir("../..") // the example's config paths are relative to the repository root
	for _, tc := range []struct {
		name    string
		command string
		stdin   []byte
		schema  string
	}{
		{"metadata", "metadata", nil, "metadata"},
		{"an accepting verify", "verify", request, "verify-response"},
		{"a rejecting verify", "verify", rejecting, "verify-response"},
		{"a valid config", "validate-config", []byte(`{"apiVersion":"containers-policy-plugin/v1alpha1","kind":"ValidateConfigRequest","config":{"keyPath":"testdata/public-good/rekor.pub"}}`), "validate-config-response"},
		{"an invalid config", "validate-config", []byte(`{"apiVersion":"containers-policy-plugin/v1alpha1","kind":"ValidateConfigRequest","config":{}}`), "validate-config-response"},
		{"a malformed request", "verify", []byte(`{`), "error"},
		{"an unknown command", "frobnicate", nil, "error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			protocol.Serve(plugin.Handler{}, []string{tc.command}, bytes.NewReader(tc.stdin), &stdout, &stderr)
			if !json.Valid(stdout.Bytes()) {
				t.Fatalf("not JSON: %q", stdout.String())
			}
			if err := validate(t, compileAt(t, "protocol/schema", tc.schema), stdout.Bytes()); err != nil {
				t.Fatalf("%s does not match %s: %v", stdout.String(), tc.schema, err)
			}
		})
	}
}

func compileAt(t *testing.T, dir, name string) *jsonschema.Schema {
	t.Helper()
	return compile(t, filepath.Join(dir, name))
}
