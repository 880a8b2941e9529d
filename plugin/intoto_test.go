package plugin

import (
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
)

func TestParseInTotoStatement(t *testing.T) {
	const (
		v1     = `"_type": "https://in-toto.io/Statement/v1"`
		pt     = `"predicateType": "https://sigstore.dev/cosign/sign/v1"`
		subj   = `"subject": [{"name": "registry.example.com/a", "digest": {"sha256": "ab"}}]`
		normal = `{` + v1 + `, ` + subj + `, ` + pt + `, "predicate": {}}`
	)
	for _, tc := range []struct {
		name, input, err string // err empty: parsed
	}{
		{"a v1 statement is read", normal, ""},
		{"a v0.1 statement is read", `{"_type": "https://in-toto.io/Statement/v0.1", ` + subj + `, ` + pt + `}`, ""},
		{"a subject with the other descriptor fields is read", `{` + v1 + `, ` + pt + `, "subject": [{"digest": {"sha256": "ab"}, "uri": "u", "mediaType": "m", "annotations": {}}]}`, ""},
		{"the protobuf spellings alone are refused", `{"type": "https://in-toto.io/Statement/v1", ` + subj + `, "predicate_type": "https://sigstore.dev/cosign/sign/v1"}`, `statement._type: required field is missing`},
		{"a protobuf spelling beside the JSON name is refused", `{` + v1 + `, ` + subj + `, ` + pt + `, "predicate_type": "x"}`, `statement: unknown field "predicate_type"`},
		{"predicate_type without predicateType is refused", `{` + v1 + `, ` + subj + `, "predicate_type": "https://sigstore.dev/cosign/sign/v1"}`, `statement.predicateType: required field is missing`},
		{"a duplicate _type is refused", `{` + v1 + `, "_type": "https://in-toto.io/Statement/v1", ` + subj + `, ` + pt + `}`, `duplicate key "_type"`},
		{"a duplicate predicateType is refused", `{` + v1 + `, ` + subj + `, ` + pt + `, "predicateType": "https://slsa.dev/provenance/v1"}`, `duplicate key "predicateType"`},
		{"a duplicate digest algorithm is refused", `{` + v1 + `, ` + pt + `, "subject": [{"digest": {"sha256": "ab", "sha256": "cd"}}]}`, `statement.subject[0].digest: duplicate key "sha256"`},
		{"a duplicate key in the predicate is refused", `{` + v1 + `, ` + subj + `, ` + pt + `, "predicate": {"a": 1, "a": 2}}`, `statement.predicate: duplicate key "a"`},
		{"a key in another case is refused", `{"_Type": "https://in-toto.io/Statement/v1", ` + subj + `, ` + pt + `}`, `statement._type: required field is missing`},
		{"another statement type is refused", `{"_type": "https://in-toto.io/Statement/v2", ` + subj + `, ` + pt + `}`, `not an in-toto statement type`},
		{"a missing subject is refused", `{` + v1 + `, ` + pt + `}`, `statement.subject: required field is missing`},
		{"a subject without digest is refused", `{` + v1 + `, ` + pt + `, "subject": [{"name": "a"}]}`, `statement.subject[0].digest: required field is missing`},
		{"a protobuf spelling in a subject is refused", `{` + v1 + `, ` + pt + `, "subject": [{"digest": {"sha256": "ab"}, "media_type": "m"}]}`, `statement.subject[0]: unknown field "media_type"`},
		{"a digest that is not a string is refused", `{` + v1 + `, ` + pt + `, "subject": [{"digest": {"sha256": 1}}]}`, `statement.subject[0].digest.sha256: must be a string`},
		{"an unknown top-level field is refused", `{` + v1 + `, ` + subj + `, ` + pt + `, "extra": 1}`, `statement: unknown field "extra"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := parseInTotoStatement([]byte(tc.input))
			if tc.err == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if s.predicateType != "https://sigstore.dev/cosign/sign/v1" || len(s.subjects) != 1 || s.subjects[0].digest["sha256"] != "ab" {
					t.Fatalf("read %+v", s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			}
		})
	}
}

// TestBundleStatementReadByInTotoNames: a DSSE bundle whose verified statement
// sigstore-go reads (protojson takes the protobuf spellings) but an in-toto JSON
// reader does not is rejected; the statement cosign writes is accepted.
func TestBundleStatementReadByInTotoNames(t *testing.T) {
	env := newTestEnv(t)
	leaf := env.leaf(t, fixture.GitHubReusableWorkflow())
	hexDigest := strings.TrimPrefix(env.digest, "sha256:")
	subjectJSON := `[{"name": "` + env.repo + `", "digest": {"sha256": "` + hexDigest + `"}}]`
	for _, tc := range []struct {
		name      string
		statement string
		verdict
	}{
		{
			name:      "the in-toto JSON names are accepted",
			statement: `{"_type": "https://in-toto.io/Statement/v1", "subject": ` + subjectJSON + `, "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}}`,
			verdict:   verdict{accept: true, signed: env.repo},
		},
		{
			name:      "the protobuf spellings type and predicate_type are rejected",
			statement: `{"type": "https://in-toto.io/Statement/v1", "subject": ` + subjectJSON + `, "predicate_type": "https://sigstore.dev/cosign/sign/v1", "predicate": {}}`,
			verdict:   verdict{reason: "signed statement is not a well-formed in-toto statement: statement._type: required field is missing"},
		},
		{
			name:      "a protobuf spelling beside the JSON names is rejected",
			statement: `{"_type": "https://in-toto.io/Statement/v1", "subject": ` + subjectJSON + `, "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}, "predicate_type": "https://slsa.dev/provenance/v1"}`,
			// sigstore-go's protojson refuses it already (one field, two names).
			verdict: verdict{reason: "statement"},
		},
		{
			name:      "a duplicate key in the predicate is rejected",
			statement: `{"_type": "https://in-toto.io/Statement/v1", "subject": ` + subjectJSON + `, "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {"a": 1, "a": 2}}`,
			verdict:   verdict{reason: "statement"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := env.bundle(t, leaf, fixture.BundleOptions{Statement: []byte(tc.statement)})
			cfg := env.bundleConfig(map[string]any{"signedIdentity": map[string]any{"type": "matchRepository"}})
			tc.check(t, evaluate(t, env.request(t, cfg, sig)))
		})
	}
}
