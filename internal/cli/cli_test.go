package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

const request = `{"apiVersion": "containers-policy-plugin/v1alpha1", "kind": "VerifyRequest", "config": {"keyData": "eA=="},
 "image": {"transport": "docker", "dockerReference": null, "manifest": "e30="}, "signatures": []}`

// TestBadInputIsExitOneWithACode pins the protocol's exit statuses: a bad request,
// config or command is exit 1 with an Error object whose code says which, never
// exit 2 or more (which a host reads as a crashed plugin) and never a panic.
func TestBadInputIsExitOneWithACode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		code  string
	}{
		{"malformed JSON", []string{"verify"}, `{"apiVersion": `, protocol.CodeInvalidRequest},
		{"not JSON at all", []string{"verify"}, "\x00\xff garbage", protocol.CodeInvalidRequest},
		{"an empty request", []string{"verify"}, "", protocol.CodeInvalidRequest},
		{"an unknown field", []string{"verify"}, strings.Replace(request, `"config"`, `"extra": 1, "config"`, 1), protocol.CodeInvalidRequest},
		{"a duplicate key", []string{"verify"}, strings.Replace(request, `"kind"`, `"kind": "VerifyRequest", "kind"`, 1), protocol.CodeInvalidRequest},
		{"bad base64", []string{"verify"}, strings.Replace(request, `"e30="`, `"e30"`, 1), protocol.CodeInvalidRequest},
		{"the wrong kind", []string{"validate-config"}, request, protocol.CodeInvalidRequest},
		{"a wrong apiVersion", []string{"verify"}, strings.Replace(request, "v1alpha1", "v9", 1), protocol.CodeUnsupportedAPIVersion},
		{"an unknown command", []string{"attest"}, request, protocol.CodeUnknownCommand},
		{"an invalid config", []string{"verify"}, request, protocol.CodeInvalidConfig},
		{"a config that is not an object", []string{"verify"}, strings.Replace(request, `{"keyData": "eA=="}`, `[]`, 1), protocol.CodeInvalidConfig},
		{"a config naming a missing file", []string{"verify"}, strings.Replace(request, `{"keyData": "eA=="}`, `{"keyPath": "/nonexistent"}`, 1), protocol.CodeInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := Run(tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if status != protocol.ExitError {
				t.Fatalf("exit %d, want %d; stdout %s stderr %s", status, protocol.ExitError, stdout.String(), stderr.String())
			}
			var answer protocol.Error
			if err := json.Unmarshal(stdout.Bytes(), &answer); err != nil {
				t.Fatalf("stdout is not one JSON object: %q", stdout.String())
			}
			if answer.Kind != protocol.KindError || answer.Code != tc.code || answer.Message == "" {
				t.Fatalf("answer %+v, want an Error with code %s", answer, tc.code)
			}
		})
	}
}

// FuzzVerifyNeverCrashes feeds arbitrary requests to the verify command: whatever
// arrives, the answer is exit 0 with a response or exit 1 with an Error object.
func FuzzVerifyNeverCrashes(f *testing.F) {
	f.Add([]byte(request))
	f.Add([]byte(`{}`))
	f.Add([]byte(`[` + strings.Repeat("[", 100)))
	f.Fuzz(func(t *testing.T, input []byte) {
		var stdout, stderr bytes.Buffer
		status := Run([]string{"verify"}, bytes.NewReader(input), &stdout, &stderr)
		if status != protocol.ExitOK && status != protocol.ExitError {
			t.Fatalf("exit %d", status)
		}
		if !json.Valid(stdout.Bytes()) {
			t.Fatalf("stdout is not JSON: %q", stdout.String())
		}
	})
}
