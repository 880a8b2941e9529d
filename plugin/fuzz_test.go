package plugin

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// Fuzz targets for the parsers that read untrusted or operator input. As normal
// tests they run their seeds (testdata/fuzz/<Target> holds crashers found so
// far, kept as regression seeds); `go test -fuzz` explores from there.

const generated = "../testdata/generated"

func generatedFile(tb testing.TB, scenario, name string) []byte {
	tb.Helper()
	return readFile(tb, filepath.Join(generated, scenario, name))
}

// generatedAnnotations are a generated cosign signature's layer annotations.
func generatedAnnotations(tb testing.TB, scenario string) map[string]string {
	tb.Helper()
	var a map[string]string
	if err := json.Unmarshal(generatedFile(tb, scenario, "annotations.json"), &a); err != nil {
		tb.Fatal(err)
	}
	return a
}

var generatedScenarios = []string{"gitlab", "github-reusable", "email", "key"}

// FuzzSimpleSigningPayload: the payload parser accepts exactly what
// encoding/json reads as containers/image's layout, with the same values.
func FuzzSimpleSigningPayload(f *testing.F) {
	for _, s := range generatedScenarios {
		f.Add(generatedFile(f, s, "payload.json"))
	}
	f.Add(readDirSignature(f, publicGood+"/signature-1").Payload)
	f.Add([]byte(`{"critical":{"identity":{"docker-reference":"a"},"image":{"docker-manifest-digest":"sha256:` + strings.Repeat("0", 64) + `"},"type":"cosign container image signature"},"optional":{"creator":"x","timestamp":1}}`))
	f.Fuzz(func(t *testing.T, untrusted []byte) {
		// As if verified: the parser is what is fuzzed.
		got, err := parseSimpleSigningPayload(&verified{payload: untrusted})
		if err != nil {
			if err.Error() == "" || strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("error %q is not one line", err)
			}
			return
		}
		// An oracle: encoding/json's reading of the same bytes.
		var want struct {
			Critical struct {
				Type     string `json:"type"`
				Identity struct {
					DockerReference string `json:"docker-reference"`
				} `json:"identity"`
				Image struct {
					DockerManifestDigest string `json:"docker-manifest-digest"`
				} `json:"image"`
			} `json:"critical"`
		}
		if err := json.Unmarshal(untrusted, &want); err != nil {
			t.Fatalf("accepted what encoding/json cannot read: %v", err)
		}
		if want.Critical.Type != cosignSignatureType || got.dockerReference != want.Critical.Identity.DockerReference ||
			got.dockerManifestDigest.String() != want.Critical.Image.DockerManifestDigest {
			t.Fatalf("parsed %+v, encoding/json reads %+v", got, want.Critical)
		}
		if err := got.dockerManifestDigest.Validate(); err != nil {
			t.Fatalf("accepted an invalid digest %q: %v", got.dockerManifestDigest, err)
		}
		if _, err := digest.Parse(got.dockerManifestDigest.String()); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzRekorSET: the SET annotation parser accepts exactly cosign's layout, with
// the values encoding/json reads.
func FuzzRekorSET(f *testing.F) {
	for _, s := range generatedScenarios {
		f.Add([]byte(generatedAnnotations(f, s)[annotationRekorSET]))
	}
	f.Add([]byte(readDirSignature(f, publicGood+"/signature-1").Annotations[annotationRekorSET]))
	f.Fuzz(func(t *testing.T, untrusted []byte) {
		got, err := parseUntrustedRekorSET(untrusted)
		if err != nil {
			// The error may quote a key verbatim, control characters included:
			// the reason built from it is flattened to one line (FuzzLegacySignature).
			if err.Error() == "" {
				t.Fatal("an empty error")
			}
			return
		}
		var want struct {
			SignedEntryTimestamp []byte
			Payload              struct {
				Body           []byte `json:"body"`
				IntegratedTime int64  `json:"integratedTime"`
				LogIndex       int64  `json:"logIndex"`
				LogID          string `json:"logID"`
			}
		}
		if err := json.Unmarshal(untrusted, &want); err != nil {
			t.Fatalf("accepted what encoding/json cannot read: %v", err)
		}
		wantID, err := hex.DecodeString(want.Payload.LogID)
		if err != nil {
			t.Fatalf("accepted log ID %q: %v", want.Payload.LogID, err)
		}
		switch {
		case !bytes.Equal(got.signedEntryTimestamp, want.SignedEntryTimestamp),
			!bytes.Equal(got.body, want.Payload.Body),
			got.integratedTime != want.Payload.IntegratedTime,
			got.logIndex != want.Payload.LogIndex,
			!bytes.Equal(got.logID, wantID):
			t.Fatalf("parsed %+v, encoding/json reads %+v", got, want)
		case got.integratedTime < 0 || got.logIndex < 0 || len(got.logID) == 0:
			t.Fatalf("accepted a negative time or index, or an empty log ID: %+v", got)
		}
	})
}

// fuzzTrustFiles serves trust files from memory while a config fuzz target
// runs, so that a fuzzed path can name nothing on the machine (a device, a
// pipe) and every run sees the same files.
func fuzzTrustFiles(f *testing.F) {
	files := map[string][]byte{}
	for _, name := range []string{"trusted_root.json", "fulcio-root.pem", "rekor.pub", "ctlog.pub"} {
		files[name] = generatedFile(f, "gitlab", name)
	}
	files["cosign.pub"] = generatedFile(f, "key", "cosign.pub")
	original := readTrustFile
	readTrustFile = func(name string) ([]byte, error) {
		if data, ok := files[name]; ok {
			return data, nil
		}
		return nil, errors.New("no such file in the fuzz test's trust files: " + name)
	}
	f.Cleanup(func() { readTrustFile = original })
}

// FuzzParseConfig: any config document gets either a usable config or errors,
// never both, never neither, every problem located under config.
func FuzzParseConfig(f *testing.F) {
	fuzzTrustFiles(f)
	for _, cfg := range []string{
		`{"trustedRootPath": "trusted_root.json", "identities": [{"issuer": "https://gitlab.com", "subjectURI": "https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"}], "signedIdentity": {"type": "matchRepository"}}`,
		`{"trustedRootPaths": ["trusted_root.json"], "identities": [{"issuerRegexp": "https://gitlab\\.(com|example\\.org)", "subjectRegexp": ".*", "extensions": {"sourceRepositoryURI": "x"}}], "requireSCT": false}`,
		`{"fulcio": {"caPath": "fulcio-root.pem", "oidcIssuer": "https://accounts.google.com", "subjectEmail": "alice@example.com"}, "rekorPublicKeyPath": "rekor.pub"}`,
		`{"fulcio": {"caData": "` + base64.StdEncoding.EncodeToString(generatedFile(f, "gitlab", "fulcio-root.pem")) + `", "oidcIssuer": "x", "subjectRegexp": "y"}, "rekorPublicKeyPaths": ["rekor.pub"]}`,
		`{"keyPath": "cosign.pub", "rekorPublicKeyPath": "rekor.pub", "signedIdentity": {"type": "exactReference", "dockerReference": "example.com/a:1"}}`,
		`{"keyPaths": ["cosign.pub"], "trustedRootPath": "trusted_root.json", "signedIdentity": {"type": "remapIdentity", "prefix": "a.example", "signedPrefix": "b.example/x"}}`,
		`{"keyDatas": ["` + base64.StdEncoding.EncodeToString(generatedFile(f, "key", "cosign.pub")) + `"], "signatureFormats": ["sigstore-bundle"], "predicateTypes": ["https://slsa.dev/provenance/v1"], "signedIdentity": {"type": "digestOnly"}}`,
		`{}`,
		`[]`,
	} {
		f.Add([]byte(cfg))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if strictjson.Validate(raw, "config") != nil {
			return // the request decoder refuses it before the plugin sees it
		}
		cfg, errs, warnings := ParseConfig(raw)
		if (cfg == nil) == (len(errs) == 0) {
			t.Fatalf("config %v with %d errors", cfg != nil, len(errs))
		}
		for _, p := range append(errs, warnings...) {
			if !strings.HasPrefix(p.Path, "config") || p.Message == "" || strings.ContainsAny(p.Message, "\r\n") {
				t.Fatalf("problem %+v: not located under config, or not one line", p)
			}
		}
		if cfg != nil && (cfg.trust == nil || (cfg.trust.keys == nil) == (cfg.trust.material == nil) || (cfg.trust.keys == nil) == (len(cfg.identities) == 0)) {
			t.Fatalf("a usable config without consistent trust: %+v", cfg)
		}
	})
}

// FuzzLegacySignature feeds the whole legacy path (payload and the four
// annotations) under the generated GitLab trust: never a panic, always a
// one-line reason, and an accept only for the valid signature's own payload
// and signature bytes.
func FuzzLegacySignature(f *testing.F) {
	env := newTestEnv(f)
	valid := env.legacy(f, env.leaf(f, fixture.GitLabCI()), env.repo, fixture.LegacyOptions{})
	validSig, _ := base64.StdEncoding.DecodeString(valid.Annotations[annotationSignature])
	a := valid.Annotations
	f.Add(valid.Payload, a[annotationSignature], a[annotationCert], a[annotationChain], a[annotationRekorSET])
	for _, s := range generatedScenarios {
		g := generatedAnnotations(f, s)
		f.Add(generatedFile(f, s, "payload.json"), g[annotationSignature], g[annotationCert], g[annotationChain], g[annotationRekorSET])
	}
	cfg := env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI})
	cfg["signedIdentity"] = map[string]any{"type": "matchRepository"}
	config, errs, _ := ParseConfig(configJSON(f, cfg))
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	ref := env.ref
	image := protocol.Image{Transport: "docker", DockerReference: &ref, Manifest: env.manifest}
	f.Fuzz(func(t *testing.T, payload []byte, sig, cert, chain, set string) {
		s := protocol.Signature{Format: protocol.FormatSigstoreJSON, MIMEType: legacyMIMEType, Payload: payload, Annotations: map[string]string{
			annotationSignature: sig, annotationCert: cert, annotationChain: chain, annotationRekorSET: set,
		}}
		resp := config.Evaluate(&image, []protocol.Signature{s})
		if reason := resp.Signatures[0].Reason; reason == "" || strings.ContainsAny(reason, "\r\n") {
			t.Fatalf("reason %q", reason)
		}
		if resp.Verdict == protocol.VerdictAccept {
			got, _ := base64.StdEncoding.DecodeString(sig)
			if !bytes.Equal(payload, valid.Payload) || !bytes.Equal(got, validSig) {
				t.Fatalf("accepted a payload or signature other than the valid one: %q %q", payload, sig)
			}
		}
	})
}

// TestFuzzSeedsExist keeps the fixtures the fuzz targets seed from: without
// them the targets would quietly fuzz from nothing.
func TestFuzzSeedsExist(t *testing.T) {
	for _, s := range generatedScenarios {
		for _, name := range []string{"payload.json", "annotations.json", "bundle.sigstore.json"} {
			if _, err := os.Stat(filepath.Join(generated, s, name)); err != nil {
				t.Error(err)
			}
		}
	}
}
