package strictjson

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		err   string // empty: valid
	}{
		{"an object is valid", `{"a": [1, {"b": null}], "c": "d"}`, ""},
		{"a scalar is valid", `"x"`, ""},
		{"a duplicate top-level key is found", `{"a": 1, "a": 2}`, `(root): duplicate key "a"`},
		{"a duplicate deep key is found with its path", `{"a": [{"b": {}}, {"b": {"c": 1, "c": 1}}]}`, `a[1].b: duplicate key "c"`},
		{"keys differing in case are not duplicates", `{"verdict": 1, "Verdict": 2}`, ""},
		{"escaped keys are compared unescaped", `{"a": 1, "\u0061": 2}`, `duplicate key "a"`},
		{"trailing data is rejected", `{} {}`, "trailing data"},
		{"trailing garbage is rejected", `{}x`, "trailing data"},
		{"a truncated document is rejected", `{"a": [1, 2`, "unexpected end"},
		{"an empty document is rejected", ``, "unexpected end"},
		{"malformed JSON is rejected", `{"a" 1}`, "malformed JSON"},
		{"deep nesting is rejected", strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "nested deeper"},
		{"nesting at the limit is valid", strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate([]byte(tc.input), "")
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

func TestObject(t *testing.T) {
	obj, err := NewObject("config", []byte(`{"s": "x", "b": true, "n": null, "raw": [1], "extra": 1, "Extra": 2}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, present, err := obj.String("s"); s != "x" || !present || err != nil {
		t.Fatalf("String: %q %v %v", s, present, err)
	}
	if _, present, err := obj.String("missing"); present || err != nil {
		t.Fatalf("String(missing): %v %v", present, err)
	}
	if _, _, err := obj.String("b"); err == nil || err.Error() != "config.b: must be a string, got a boolean" {
		t.Fatalf("String(b): %v", err)
	}
	if v, err := obj.NullableString("n"); v != nil || err != nil {
		t.Fatalf("NullableString(null): %v %v", v, err)
	}
	obj.Raw("raw")
	if err := obj.Close(); err == nil || err.Error() != `config: unknown field "Extra"` {
		t.Fatalf("Close: %v (unclaimed keys are reported in sorted order, exact case)", err)
	}
	if _, err := NewObject("x", []byte(`null`)); err == nil {
		t.Fatal("null accepted as an object")
	}
	if _, err := Base64("p", []byte(`"YQ==\n"`)); err == nil {
		t.Fatal("base64 with a line break accepted")
	}
	if _, err := Base64("p", []byte(`"YQ"`)); err == nil {
		t.Fatal("unpadded base64 accepted")
	}
}

// TestFastPathsTakeRealDocuments: the fast paths must settle the documents the
// plugin reads every day, or they are dead code; the real request and every
// JSON file under testdata must pass obviouslyValid.
func TestFastPathsTakeRealDocuments(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../../testdata/*/*.json", "../../testdata/*/*/*.json", "../../testdata/*/*/*/*.json"} {
		matches, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, matches...)
	}
	if len(files) < 50 {
		t.Fatalf("found %d JSON files under testdata", len(files))
	}
	taken := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		slow := validateWithPaths(data, "")
		if fast := obviouslyValid(data); fast {
			taken++
			if slow != nil {
				t.Errorf("%s: the fast path accepts what the walker refuses: %v", file, slow)
			}
		} else if slow == nil && !strings.Contains(string(data), `\u`) {
			t.Errorf("%s: valid, but the fast path did not take it", file)
		}
	}
	t.Logf("%d of %d testdata JSON files taken by the fast path", taken, len(files))
	if s, ok := plainString([]byte(`"c2lnc3RvcmU="`)); !ok || s != "c2lnc3RvcmU=" {
		t.Errorf("plainString of a base64 value: %q %v", s, ok)
	}
}

// FuzzValidateFastPath: obviouslyValid never accepts what the walker refuses,
// and plainString reads a string as encoding/json does whenever it answers.
func FuzzValidateFastPath(f *testing.F) {
	for _, seed := range []string{
		`{"a": [1, {"b": null}], "c": "d"}`, `{"a": 1, "a": 2}`, `{"a": 1, "\u0061": 2}`, `{"a\\": 1, "a\\": 2}`,
		`{"a":{"a":1},"b":{"a":1}}`, `[{"a":1},{"a":1}]`, `{"a":[],"b":{}}`, `"x"`, `{} {}`, `{"é": 1, "é": 2}`,
		strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), `"\u0000"`, `"a\"b"`, "\"tab\there\"", ` "x" `,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if obviouslyValid(data) {
			if err := validateWithPaths(data, ""); err != nil {
				t.Fatalf("fast path accepts %q, the walker says %v", data, err)
			}
		}
		if s, ok := plainString(data); ok {
			var want string
			if err := json.Unmarshal(data, &want); err != nil || s != want {
				t.Fatalf("plainString(%q) = %q, encoding/json says %q (%v)", data, s, want, err)
			}
		}
	})
}
