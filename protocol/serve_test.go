package protocol

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

type stubHandler struct {
	verify func(*VerifyRequest) (*VerifyResponse, error)
}

func (stubHandler) Metadata() Metadata { return Metadata{Name: "stub", Version: "1"} }
func (stubHandler) ValidateConfig(*ValidateConfigRequest) (*ValidateConfigResponse, error) {
	return &ValidateConfigResponse{Errors: []ConfigProblem{{Path: "config", Message: "bad"}}}, nil
}
func (h stubHandler) Verify(req *VerifyRequest) (*VerifyResponse, error) { return h.verify(req) }

// countingWriter records how many writes the answer took: it must be one, so that
// a crash can never leave half an answer on stdout.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

func TestServe(t *testing.T) {
	request := verifyRequest(`{"transport": "docker", "dockerReference": null, "manifest": "`+manifestB64+`"}`, `[]`)
	for _, tc := range []struct {
		name    string
		args    []string
		stdin   string
		verify  func(*VerifyRequest) (*VerifyResponse, error)
		status  int
		kind    string
		contain string
	}{
		{"metadata fills in apiVersion and kind", []string{"metadata"}, "", nil, ExitOK, KindMetadata, `"name":"stub"`},
		{"validate-config derives valid from errors", []string{"validate-config"}, `{"apiVersion": "` + APIVersion + `", "kind": "ValidateConfigRequest", "config": {}}`, nil, ExitOK, KindValidateConfigResponse, `"valid":false`},
		{"verify echoes the requestID", []string{"verify"}, request, func(*VerifyRequest) (*VerifyResponse, error) {
			return &VerifyResponse{Verdict: VerdictReject, Reason: "no", Signatures: []SignatureResult{}}, nil
		}, ExitOK, KindVerifyResponse, `"requestID":"r1"`},
		{"a coded handler error keeps its code", []string{"verify"}, request, func(*VerifyRequest) (*VerifyResponse, error) {
			return nil, Errorf(CodeInvalidConfig, "config.x: bad")
		}, ExitError, KindError, `"code":"INVALID_CONFIG"`},
		{"a plain handler error is INTERNAL", []string{"verify"}, request, func(*VerifyRequest) (*VerifyResponse, error) {
			return nil, bytes.ErrTooLarge
		}, ExitError, KindError, `"code":"INTERNAL"`},
		{"a panic is INTERNAL, not a crash", []string{"verify"}, request, func(*VerifyRequest) (*VerifyResponse, error) {
			panic("boom")
		}, ExitError, KindError, `"code":"INTERNAL"`},
		{"an unknown command", []string{"frobnicate"}, "", nil, ExitError, KindError, `"code":"UNKNOWN_COMMAND"`},
		{"no command", nil, "", nil, ExitError, KindError, `"code":"UNKNOWN_COMMAND"`},
		{"extra arguments", []string{"verify", "x"}, request, nil, ExitError, KindError, `"code":"UNKNOWN_COMMAND"`},
		{"a bad request never reaches the handler", []string{"verify"}, `{"apiVersion": 1}`, nil, ExitError, KindError, `"code":"INVALID_REQUEST"`},
		{"an oversized request", []string{"verify"}, `{"pad": "` + strings.Repeat("x", MaxRequestBytes) + `"}`, nil, ExitError, KindError, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout countingWriter
			var stderr bytes.Buffer
			status := Serve(stubHandler{verify: tc.verify}, tc.args, strings.NewReader(tc.stdin), &stdout, &stderr)
			if status != tc.status {
				t.Fatalf("status %d, want %d; stdout %s", status, tc.status, stdout.String())
			}
			if stdout.writes != 1 {
				t.Fatalf("answer written in %d writes, want 1", stdout.writes)
			}
			var head struct{ APIVersion, Kind string }
			if err := json.Unmarshal(stdout.Bytes(), &head); err != nil || head.APIVersion != APIVersion || head.Kind != tc.kind {
				t.Fatalf("answer %s: %v", stdout.String(), err)
			}
			if !strings.Contains(stdout.String(), tc.contain) {
				t.Fatalf("answer %s does not contain %s", stdout.String(), tc.contain)
			}
		})
	}
}
