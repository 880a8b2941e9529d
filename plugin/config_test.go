package plugin

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

func TestConfigErrors(t *testing.T) {
	env := newTestEnv(t)
	root := `"trustedRootPath": "` + env.trustedRootPath + `"`
	id := `"identities": [{"issuer": "https://gitlab.com", "subjectURI": "` + gitlabURI + `"}]`
	for _, tc := range []struct {
		name   string
		config string
		path   string
		msg    string
	}{
		{"a config must be an object", `[]`, "config", "must be an object"},
		{"an unknown top-level key", `{` + root + `, ` + id + `, "trustedRoot": "x"}`, "config", `unknown field "trustedRoot"`},
		{"keys match by exact case", `{` + root + `, ` + id + `, "SignedIdentity": {"type": "matchExact"}}`, "config", `unknown field "SignedIdentity"`},
		{"no trust material", `{` + id + `}`, "config", "no trust material"},
		{"a missing trusted root file", `{"trustedRootPath": "/nonexistent/trusted_root.json", ` + id + `}`, "config.trustedRootPath", "no such file"},
		{"a trusted root that is not one", `{"trustedRootPath": "` + env.rekorKeyPath + `", ` + id + `}`, "config.trustedRootPath", "not a valid Sigstore trusted root"},
		{"trustedRootPath and trustedRootPaths together", `{` + root + `, "trustedRootPaths": ["x"], ` + id + `}`, "config.trustedRootPaths", "conflicts with trustedRootPath"},
		{"an empty trustedRootPaths", `{"trustedRootPaths": [], ` + id + `}`, "config.trustedRootPaths", "must not be empty"},
		{"a Fulcio CA without Rekor", `{"fulcio": {"caPath": "` + env.fulcioRootPath + `"}, ` + id + `}`, "config.fulcio", "needs rekorPublicKeyPath"},
		{"a Fulcio CA with a trusted root", `{` + root + `, "fulcio": {"caPath": "` + env.fulcioRootPath + `"}, ` + id + `}`, "config.fulcio.caPath", "conflicts with trustedRootPath"},
		{"caPath and caData together", `{"fulcio": {"caPath": "a", "caData": "YQ=="}, "rekorPublicKeyPath": "` + env.rekorKeyPath + `", ` + id + `}`, "config.fulcio.caData", "conflicts with caPath"},
		{"caData that is not base64", `{"fulcio": {"caData": "not base64!"}, "rekorPublicKeyPath": "` + env.rekorKeyPath + `", ` + id + `}`, "config.fulcio.caData", "invalid base64"},
		{"Rekor keys alone", `{"rekorPublicKeyPath": "` + env.rekorKeyPath + `", ` + id + `}`, "config.rekorPublicKeyPath", "trust nothing"},
		{"a Rekor key that is a certificate", `{"fulcio": {"caPath": "` + env.fulcioRootPath + `"}, "rekorPublicKeyPath": "` + env.fulcioRootPath + `", ` + id + `}`, "config.rekorPublicKeyPath", "not a PEM public key"},
		{"keys with identities", `{"keyPath": "` + env.rekorKeyPath + `", ` + id + `}`, "config.identities", "trusts keys and accepts no certificate"},
		{"keys with a Fulcio CA", `{"keyPath": "` + env.rekorKeyPath + `", "fulcio": {"caPath": "` + env.fulcioRootPath + `"}, "rekorPublicKeyPath": "` + env.rekorKeyPath + `"}`, "config.keyPath", "conflicts with fulcio"},
		{"a certificate trust without identities", `{` + root + `}`, "config.identities", "need identities"},
		{"an empty identities list", `{` + root + `, "identities": []}`, "config.identities", "at least one"},
		{"identities and the shorthand together", `{` + root + `, ` + id + `, "fulcio": {"oidcIssuer": "x", "subjectEmail": "a@b"}}`, "config.identities", "conflicts with the fulcio"},
		{"an identity without an issuer", `{` + root + `, "identities": [{"subjectURI": "https://x"}]}`, "config.identities[0]", "exactly one of issuer, issuerRegexp is required"},
		{"an identity with issuer and issuerRegexp", `{` + root + `, "identities": [{"issuer": "a", "issuerRegexp": "b", "subjectURI": "https://x"}]}`, "config.identities[0].issuerRegexp", "conflicts with issuer"},
		{"an identity without a subject", `{` + root + `, "identities": [{"issuer": "a"}]}`, "config.identities[0]", "exactly one of subjectEmail, subjectURI, subjectRegexp is required"},
		{"an identity with two subjects", `{` + root + `, "identities": [{"issuer": "a", "subjectURI": "https://x", "subjectEmail": "a@b"}]}`, "config.identities[0].subjectURI", "exactly one of"},
		{"an invalid subjectRegexp names its index", `{` + root + `, "identities": [{"issuer": "a", "subjectURI": "https://x"}, {"issuer": "a", "subjectRegexp": "(unclosed"}]}`, "config.identities[1].subjectRegexp", "invalid regular expression"},
		{"a pattern that would escape the anchors", `{` + root + `, "identities": [{"issuer": "a", "subjectRegexp": "a)|(b"}]}`, "config.identities[0].subjectRegexp", "invalid regular expression"},
		{"an unknown identity field", `{` + root + `, "identities": [{"issuer": "a", "subjectURI": "https://x", "subject": "y"}]}`, "config.identities[0]", `unknown field "subject"`},
		{"an unknown extension", `{` + root + `, "identities": [{"issuer": "a", "subjectURI": "https://x", "extensions": {"githubWorkflowRef": "x"}}]}`, "config.identities[0].extensions.githubWorkflowRef", "unknown Fulcio extension"},
		{"an empty extension pin", `{` + root + `, "identities": [{"issuer": "a", "subjectURI": "https://x", "extensions": {"sourceRepositoryURI": ""}}]}`, "config.identities[0].extensions.sourceRepositoryURI", "must not be empty"},
		{"a shorthand without oidcIssuer", `{` + root + `, "fulcio": {"subjectEmail": "a@b"}}`, "config.fulcio.oidcIssuer", "required"},
		{"an unknown signedIdentity type", `{` + root + `, ` + id + `, "signedIdentity": {"type": "matchAnything"}}`, "config.signedIdentity.type", "unknown signedIdentity type"},
		{"exactReference without a tag", `{` + root + `, ` + id + `, "signedIdentity": {"type": "exactReference", "dockerReference": "example.com/repo"}}`, "config.signedIdentity.dockerReference", "neither a tag nor a digest"},
		{"exactRepository that does not parse", `{` + root + `, ` + id + `, "signedIdentity": {"type": "exactRepository", "dockerRepository": "UPPER/case"}}`, "config.signedIdentity.dockerRepository", "invalid repository"},
		{"remapIdentity with an invalid prefix", `{` + root + `, ` + id + `, "signedIdentity": {"type": "remapIdentity", "prefix": "example.com/", "signedPrefix": "x.example"}}`, "config.signedIdentity.prefix", "is not valid"},
		{"a signedIdentity with a field its type lacks", `{` + root + `, ` + id + `, "signedIdentity": {"type": "matchExact", "dockerReference": "a:b"}}`, "config.signedIdentity", `unknown field "dockerReference"`},
		{"an unknown signature format", `{` + root + `, ` + id + `, "signatureFormats": ["gpg"]}`, "config.signatureFormats[0]", "unknown signature format"},
		{"no signature formats", `{` + root + `, ` + id + `, "signatureFormats": []}`, "config.signatureFormats", "at least one format"},
		{"requireSCT without CT logs", `{"fulcio": {"caPath": "` + env.fulcioRootPath + `"}, "rekorPublicKeyPath": "` + env.rekorKeyPath + `", ` + id + `, "requireSCT": true}`, "config.requireSCT", "no CT log"},
		// ParseConfig is called in-process too (nothing decoded a request around
		// it): the document rules are its own.
		{"a duplicate keyData in-process", `{"keyData": "QQ==", "keyData": "Qg=="}`, "config", `duplicate key "keyData"`},
		{"a duplicate key deep in an identity in-process", `{` + root + `, "identities": [{"issuer": "a", "subjectURI": "https://x", "subjectURI": "https://y"}]}`, "config.identities[0]", `duplicate key "subjectURI"`},
		{"a subject with an unpaired surrogate in-process", `{` + root + `, "identities": [{"issuer": "a", "subjectURI": "https://x\ud800"}]}`, "config.identities[0].subjectURI", "not well-formed Unicode"},
		{"trailing data in-process", `{` + root + `, ` + id + `} {}`, "config", "trailing data"},
		{"requireSCT that is not a boolean", `{` + root + `, ` + id + `, "requireSCT": "yes"}`, "config.requireSCT", "must be true or false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, _ := ParseConfig([]byte(tc.config))
			for _, e := range errs {
				if e.Path == tc.path && strings.Contains(e.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("want an error at %s containing %q, got %+v", tc.path, tc.msg, errs)
		})
	}
}

func TestConfigWarnings(t *testing.T) {
	env := newTestEnv(t)
	for _, tc := range []struct {
		name     string
		identity map[string]any
		extra    map[string]any
		path     string
		msg      string
	}{
		{"a regexp without metacharacters", map[string]any{"issuer": "a", "subjectRegexp": "https://gitlab"}, nil, "config.identities[0].subjectRegexp", "use subjectURI or subjectEmail"},
		{"an unescaped dot", map[string]any{"issuer": "a", "subjectRegexp": `https://gitlab.com/group/.*`}, nil, "config.identities[0].subjectRegexp", "unescaped '.'"},
		{"a leading .*", map[string]any{"issuer": "a", "subjectRegexp": `.*gitlab\.com/group/project`}, nil, "config.identities[0].subjectRegexp", "any prefix matches"},
		{"redundant anchors", map[string]any{"issuer": "a", "subjectRegexp": `^https://gitlab\.com/.*$`}, nil, "config.identities[0].subjectRegexp", "redundant"},
		{"an issuerRegexp without metacharacters", map[string]any{"issuerRegexp": "https://gitlab", "subjectURI": "https://x"}, nil, "config.identities[0].issuerRegexp", "use issuer"},
		{"a subjectURI without a scheme", map[string]any{"issuer": "a", "subjectURI": "gitlab.com/group/project"}, nil, "config.identities[0].subjectURI", "has no scheme"},
		{"digestOnly without a repository pin", map[string]any{"issuer": "a", "subjectRegexp": `https://gitlab\.com/.*`}, map[string]any{"signedIdentity": map[string]any{"type": "digestOnly"}}, "config.signedIdentity", "pin the source repository"},
	} {
		t.Run(tc.name+" warns", func(t *testing.T) {
			cfg := env.trustedRoot(tc.identity)
			for k, v := range tc.extra {
				cfg[k] = v
			}
			_, errs, warnings := ParseConfig(configJSON(t, cfg))
			if len(errs) > 0 {
				t.Fatalf("unexpected errors: %+v", errs)
			}
			for _, w := range warnings {
				if w.Path == tc.path && strings.Contains(w.Message, tc.msg) {
					return
				}
			}
			t.Fatalf("want a warning at %s containing %q, got %+v", tc.path, tc.msg, warnings)
		})
	}
	t.Run("a well-written config has no warnings", func(t *testing.T) {
		cfg := env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectRegexp": `https://gitlab\.com/group/project//\.gitlab-ci\.yml@refs/tags/v[0-9.]+`})
		if _, errs, warnings := ParseConfig(configJSON(t, cfg)); len(errs)+len(warnings) > 0 {
			t.Fatalf("errors %+v, warnings %+v", errs, warnings)
		}
	})
}

func TestInvalidConfigIsAnErrorNotAVerdict(t *testing.T) {
	env := newTestEnv(t)
	_, err := Evaluate(env.request(t, map[string]any{"trustedRootPath": env.trustedRootPath}))
	var coded *protocol.CodedError
	if !asCoded(err, &coded) || coded.Code != protocol.CodeInvalidConfig || !strings.Contains(coded.Message, "config.identities") {
		t.Fatalf("got %v, want INVALID_CONFIG naming config.identities", err)
	}
}

func asCoded(err error, target **protocol.CodedError) bool {
	return errors.As(err, target)
}

func TestKeySignatures(t *testing.T) {
	env := newTestEnv(t)
	key, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	third, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	otherID, thirdID := keyID(t, other.pair), keyID(t, third.pair)
	withSET := env.legacy(t, key.pair, env.ref, fixtureLegacyDefault)
	withoutSET := env.legacy(t, key.pair, env.ref, fixtureLegacyNoSET)
	for _, tc := range []struct {
		name   string
		cfg    map[string]any
		sig    protocol.Signature
		accept bool
		reason string
	}{
		{"a key accepts its signature", map[string]any{"keyPath": key.path}, withoutSET, true, ""},
		{"keyData works like keyPath", map[string]any{"keyData": base64.StdEncoding.EncodeToString(key.pair.PublicKeyPEM)}, withoutSET, true, ""},
		{"any of several keys accepts", map[string]any{"keyPaths": []any{other.path, key.path}}, withoutSET, true, ""},
		{"another key rejects, naming it", map[string]any{"keyPath": other.path}, withoutSET, false, "signature was not made by the configured key (" + otherID + ")"},
		{
			"other keys reject, naming each",
			map[string]any{"keyPaths": []any{other.path, third.path}},
			withoutSET, false,
			"signature was not made by any of the 2 configured keys (" + otherID + ", " + thirdID + ")",
		},
		{
			"other keys with Rekor reject: the log entry names another key",
			map[string]any{"keyPaths": []any{other.path, third.path}, "rekorPublicKeyPath": env.rekorKeyPath},
			withSET, false,
			"transparency log entry was made with another key than the trusted key",
		},
		{"a key with Rekor accepts a signature with a SET", map[string]any{"keyPath": key.path, "rekorPublicKeyPath": env.rekorKeyPath}, withSET, true, ""},
		{"a key with Rekor rejects a signature without a SET", map[string]any{"keyPath": key.path, "rekorPublicKeyPath": env.rekorKeyPath}, withoutSET, false, "a Rekor SET is required"},
		{"a key with a trusted root accepts a signature with a SET", map[string]any{"keyPath": key.path, "trustedRootPath": env.trustedRootPath}, withSET, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg["signedIdentity"] = map[string]any{"type": "matchExact"}
			resp := evaluate(t, env.request(t, tc.cfg, tc.sig))
			if got := resp.Verdict == protocol.VerdictAccept; got != tc.accept {
				t.Fatalf("verdict %s, want accept=%v: %s", resp.Verdict, tc.accept, resp.Reason)
			}
			if !tc.accept {
				if !strings.Contains(resp.Reason, tc.reason) {
					t.Fatalf("reason %q does not contain %q", resp.Reason, tc.reason)
				}
				return
			}
			if resp.Accepted.PublicKey == nil || !strings.HasPrefix(*resp.Accepted.PublicKey, "sha256:") || resp.Accepted.Issuer != nil {
				t.Fatalf("accepted %+v", resp.Accepted)
			}
			if hasSET := tc.sig.Annotations[annotationRekorSET] != ""; (resp.Accepted.Time != nil) != (hasSET && len(tc.cfg) > 2) {
				t.Fatalf("accepted.time %v with SET %v and config %v", resp.Accepted.Time, hasSET, tc.cfg)
			}
		})
	}
}

// keyID is the name responses give a key: sha256 of its DER SubjectPublicKeyInfo.
func keyID(t testing.TB, pair *fixture.KeyPair) string {
	t.Helper()
	id, err := publicKeyID(pair.Key.Public())
	if err != nil {
		t.Fatal(err)
	}
	return id
}
