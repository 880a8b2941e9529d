package strictjson

import "testing"

func TestRequired(t *testing.T) {
	obj, err := Parse([]byte(`{"s": "x", "n": null, "b": true}`), "config")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := obj.RequiredString("s"); s != "x" || err != nil {
		t.Fatalf("RequiredString(s) = %q, %v", s, err)
	}
	if raw, err := obj.Required("n"); err != nil || !IsNull(raw) {
		t.Fatalf("Required(n) = %s, %v: null is present", raw, err)
	}
	if _, err := obj.RequiredString("b"); err == nil || err.Error() != "config.b: must be a string, got a boolean" {
		t.Fatalf("RequiredString(b): %v", err)
	}
	if _, err := obj.Required("missing"); err == nil || err.Error() != "config.missing: required field is missing" {
		t.Fatalf("Required(missing): %v", err)
	}
	if err := obj.Close(); err != nil {
		t.Fatalf("Close after claiming every key: %v", err)
	}
}
