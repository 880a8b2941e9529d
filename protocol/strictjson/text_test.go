package strictjson

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateText(t *testing.T) {
	for _, tc := range []struct {
		name  string
		input string
		err   string // empty: valid
	}{
		{"ASCII strings are well-formed", `{"a": ["b", "c\"d\\u"]}`, ""},
		{"raw UTF-8 is well-formed", "{\"é\": \"\xf0\x9f\x98\x80\"}", ""},
		{"a surrogate pair escape is well-formed", `{"a": "\ud83d\ude00"}`, ""},
		{"an escaped backslash before u is no escape", `{"a": "\\ud800"}`, ""},
		{"escapes of non-surrogates are well-formed", `{"a": "\u0000\u00e9\uFFFF"}`, ""},
		{"a lone high surrogate at the end is refused", `{"a": ["\ud800"]}`, `a[0]: string is not well-formed Unicode`},
		{"a high surrogate before text is refused", `{"a": "\ud800x"}`, `a: string is not well-formed Unicode`},
		{"two high surrogates are refused", `{"a": "\ud800\ud800"}`, `a: string is not well-formed Unicode`},
		{"a lone low surrogate is refused", `{"a": "\uDC00"}`, `a: string is not well-formed Unicode`},
		{"a reversed pair is refused", `{"a": "\ude00\ud83d"}`, `a: string is not well-formed Unicode`},
		{"invalid UTF-8 in a value is refused", "{\"a\": {\"b\": \"\xff\"}}", `a.b: string is not well-formed Unicode`},
		{"a truncated UTF-8 sequence is refused", "{\"a\": \"\xe2\x82\"}", `a: string is not well-formed Unicode`},
		{"an overlong UTF-8 encoding is refused", "{\"a\": \"\xc0\xaf\"}", `a: string is not well-formed Unicode`},
		{"a UTF-8-encoded surrogate is refused", "{\"a\": \"\xed\xa0\x80\"}", `a: string is not well-formed Unicode`},
		{"invalid UTF-8 in a key is refused", "{\"a\": {\"\xff\": 1}}", `a: string is not well-formed Unicode`},
		{"the document rules still apply", `{"a": 1, "a": 2}`, `duplicate key "a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateText([]byte(tc.input), "")
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
			if Validate([]byte(tc.input), "") == nil && strings.Contains(tc.err, "Unicode") == stringsWellFormed([]byte(tc.input)) {
				t.Fatalf("stringsWellFormed disagrees with the walker")
			}
		})
	}
}

// FuzzValidateText: the scan that settles well-formed documents agrees with
// the walker that names the path of an ill-formed string.
func FuzzValidateText(f *testing.F) {
	for _, seed := range []string{`{"a": "\ud83d\ude00"}`, `{"a": "\ud800"}`, "{\"a\": \"\xff\"}", `["\\ud800", "\udc00"]`, `"\u00e9"`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if Validate(data, "") != nil {
			return
		}
		w := walker{dec: newDecoder(data), data: data, text: true}
		if fast, slow := stringsWellFormed(data), w.document(""); fast != (slow == nil) {
			t.Fatalf("%q: the scan says %v, the walker %v", data, fast, slow)
		}
	})
}

func TestParse(t *testing.T) {
	if _, err := Parse([]byte(`{"keyData": "A", "keyData": "B"}`), "config"); err == nil || err.Error() != `config: duplicate key "keyData"` {
		t.Fatalf("Parse of a duplicate key: %v", err)
	}
	if _, err := Parse([]byte(`{"a": "\ud800"}`), "payload"); err != nil {
		t.Fatalf("Parse applies the document rules only: %v", err)
	}
	if _, err := ParseText([]byte(`{"a": "\ud800"}`), "config"); err == nil || !strings.Contains(err.Error(), "config.a: string is not well-formed Unicode") {
		t.Fatalf("ParseText of a lone surrogate: %v", err)
	}
	obj, err := ParseText([]byte(`{"a": "b"}`), "config")
	if err != nil {
		t.Fatal(err)
	}
	if s, _, err := obj.String("a"); s != "b" || err != nil || obj.Close() != nil {
		t.Fatalf("ParseText opened %q %v", s, err)
	}
	if _, err := Parse([]byte(`[]`), ""); err == nil {
		t.Fatal("Parse opened an array as an object")
	}
	if !IsObject([]byte(` {"a": 1}`)) || IsObject([]byte(`[]`)) || IsObject(nil) {
		t.Fatal("IsObject")
	}
}

// BenchmarkValidateText: the Unicode rule's cost on the largest JSON document
// under testdata without \u escapes (the common case: what Go and protojson
// write), next to Validate's alone.
func BenchmarkValidateText(b *testing.B) {
	var data []byte
	for _, pattern := range []string{"../../testdata/*/*.json", "../../testdata/*/*/*.json"} {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			if d, err := os.ReadFile(f); err == nil && len(d) > len(data) && !strings.Contains(string(d), `\u`) {
				data = d
			}
		}
	}
	for _, bc := range []struct {
		name string
		fn   func([]byte, Path) error
	}{{"Validate", Validate}, {"ValidateText", ValidateText}} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if err := bc.fn(data, ""); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
