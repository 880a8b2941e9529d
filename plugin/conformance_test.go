package plugin

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/protocol"
)

// conformanceDir holds the bundle-verification cases of the Sigstore conformance
// suite (see its NOTICE and README).
const conformanceDir = "../testdata/conformance"

// The suite's defaults for a case without identity, issuer or trusted_root.json.
const (
	conformanceIdentity = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
	conformanceIssuer   = "https://token.actions.githubusercontent.com"
	conformancePublic   = "trusted_root.public-good.json"
)

// conformanceRejections is, for every _fail case, a part of the reason it must be
// rejected with: the defect its README names, or, where the bundle has a second
// defect that sigstore-go meets first, that one (noted; TestConformanceSpotChecks
// repairs the first defect where it can and checks the named one).
var conformanceRejections = map[string]string{
	"bundle-empty-certificate-chain_fail":                       "bundle has an empty x509CertificateChain",
	"bundle-from-wrong-instance_fail":                           "which is not a trusted transparency log",
	"bundle-invalid-base64-signature_fail":                      "invalid value for bytes field signature",
	"bundle-malformed-json_fail":                                "malformed JSON",
	"bundle-negative-log-index_fail":                            "negative log index",
	"bundle-unknown-version_fail":                               "unsupported media type: application/vnd.dev.sigstore.bundle+json;version=99.9",
	"bundle-with-root-cert_fail":                                "includes a root certificate",
	"checkpoint-bad-keyhint_fail":                               "signature on checkpoint did not verify",
	"checkpoint-wrong-roothash_fail":                            "proof root hash does not match signed tree head",
	"dsse-invalid-sig_fail":                                     "transparency log signature does not match", // the log entry records the valid signature
	"dsse-mismatch-envelope_fail":                               "transparency log signature does not match",
	"dsse-mismatch-sig_fail":                                    "transparency log signature does not match",
	"inclusion-proof-corrupted-hash_fail":                       "calculated root",
	"incorrect-public-key_fail":                                 "invalid signature when validating ASN.1 encoded signature", // Rekor's parser checks the entry's key
	"integrated-time-in-future_fail":                            "Rekor SET time 2026-05-07T15:34:11Z is outside the certificate's validity",
	"intoto-expired-certificate_fail":                           "Rekor SET time 2023-02-01T00:00:00Z is outside the certificate's validity (2030-01-01T00:00:00Z",
	"intoto-log-entry-mismatch_fail":                            "could not verify envelope",
	"intoto-missing-inclusion-proof_fail":                       "inclusion proof missing in bundle",
	"intoto-set-outside-signing-cert-validity_fail":             "Rekor SET time 2023-02-02T00:00:00Z is outside the certificate's validity",
	"intoto-tsa-timestamp-outside-cert-validity_fail":           "certificate chain was not valid at the signing time 2023-02-02T00:00:00Z",
	"invalid-checkpoint-signature_fail":                         "signature on checkpoint did not verify",
	"invalid-ct-key_fail":                                       "signed certificate timestamp (SCT)",
	"invalid-inclusion-proof_fail":                              "inclusion proof missing required checkpoint", // sigstore-go v1.3.0 refuses proofs without a checkpoint before looking at the old proof
	"managed-key-no-key_fail":                                   "bundle is signed with a public key, but this requirement trusts certificates",
	"managed-key-wrong-key_fail":                                "not a PEM public key: P256 point not on curve", // its key.pub is not a key; spot-checked with a real other key
	"message-digest-mismatch_fail":                              "hashedrekord entry digest a0cfc7",
	"rekor2-checkpoint-missing-log-signature_fail":              "unverified checkpoint signature",
	"rekor2-checkpoint-missing-origin_fail":                     "unverified checkpoint signature",
	"rekor2-checkpoint-missing-root-hash_fail":                  "unverified checkpoint signature",
	"rekor2-checkpoint-missing-size_fail":                       "unverified checkpoint signature",
	"rekor2-checkpoint-no-matching-signature_fail":              "note has no verifiable signatures",
	"rekor2-dsse-invalid-sig_fail":                              "verifying inclusion: calculated root", // a Rekor v2 entry hash commits to the signature
	"rekor2-dsse-mismatch-envelope_fail":                        "verifying inclusion: calculated root",
	"rekor2-dsse-mismatch-sig_fail":                             "verifying inclusion: calculated root",
	"rekor2-no-inclusion-proof_fail":                            "inclusion proof missing in bundle",
	"rekor2-no-timestamp_fail":                                  "no signed time: the bundle has neither a Rekor SET from a trusted log nor an RFC 3161 timestamp",
	"rekor2-timestamp-outside-trust-root-tsa-validity_fail":     "timestamp is after the validity period end",
	"rekor2-timestamp-outside-tsa-cert-validity_fail":           "is outside of certificate validity",
	"rekor2-timestamp-payload-mismatch_fail":                    "hashed messages don't match",
	"rekor2-timestamp-untrusted-tsa-with-embedded-cert_fail":    "does not verify with a trusted TSA",
	"rekor2-timestamp-untrusted-tsa-without-embedded-cert_fail": "does not verify with a trusted TSA",
	"rekor2-timestamp-with-incorrect-time_fail":                 "invalid value for bytes field signedTimestamp", // line-wrapped base64; spot-checked unwrapped
	"set-invalid-signature_fail":                                "Rekor SET (inclusion promise) does not verify with the trusted log key",
	"signature-mismatch_fail":                                   "transparency log signature does not match",
	"trust-root-tlog-missing-validity-start_fail":               "tlog missing public key validity period start time",
	"wrong-hashedrekord-artifact_fail":                          "transparency log signature does not match",
	"wrong-hashedrekord-cert-and-sig_fail":                      "transparency log signature does not match",
	"wrong-hashedrekord-entry_fail":                             "transparency log signature does not match",
	"wrong-material_fail":                                       "message signature is for digest sha256:a0cfc7",
}

type conformanceCase struct {
	name     string
	dir      string
	wantFail bool
}

func conformanceCases(t *testing.T) []conformanceCase {
	entries, err := os.ReadDir(conformanceDir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []conformanceCase
	for _, e := range entries {
		if e.IsDir() {
			cases = append(cases, conformanceCase{
				name:     e.Name(),
				dir:      filepath.Join(conformanceDir, e.Name()),
				wantFail: strings.HasSuffix(e.Name(), "_fail"),
			})
		}
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].name < cases[j].name })
	return cases
}

// optionalFile returns the contents of dir/name, or fallback when it is absent.
func optionalFile(t *testing.T, dir, name string, fallback []byte) []byte {
	data, err := os.ReadFile(filepath.Join(dir, name))
	switch {
	case err == nil:
		return data
	case errors.Is(err, os.ErrNotExist):
		return fallback
	default:
		t.Fatal(err)
		return nil
	}
}

// request builds the verify request the suite's test_verify describes: the
// artifact as the manifest, the bundle as the one signature, the case's identity
// (or key) and trusted root as the config, digestOnly because a blob names no
// image.
func (c conformanceCase) request(t *testing.T) *protocol.VerifyRequest {
	defaultArtifact := readFile(t, filepath.Join(conformanceDir, "a.txt"))
	trustedRoot := filepath.Join(c.dir, "trusted_root.json")
	if _, err := os.Stat(trustedRoot); err != nil {
		trustedRoot = filepath.Join(conformanceDir, conformancePublic)
	}
	cfg := map[string]any{
		"trustedRootPath": abs(t, trustedRoot),
		"signedIdentity":  map[string]any{"type": "digestOnly"},
		"predicateTypes":  []any{cosignSignPredicate, "https://slsa.dev/provenance/v1"},
	}
	if _, err := os.Stat(filepath.Join(c.dir, "key.pub")); err == nil {
		cfg["keyPath"] = abs(t, filepath.Join(c.dir, "key.pub"))
	} else {
		subject := strings.TrimSpace(string(optionalFile(t, c.dir, "identity", []byte(conformanceIdentity))))
		issuer := strings.TrimSpace(string(optionalFile(t, c.dir, "issuer", []byte(conformanceIssuer))))
		id := map[string]any{"issuer": issuer, "subjectURI": subject}
		if !strings.Contains(subject, "://") && strings.Contains(subject, "@") {
			id = map[string]any{"issuer": issuer, "subjectEmail": subject}
		}
		cfg["identities"] = []any{id}
	}
	return &protocol.VerifyRequest{
		APIVersion: protocol.APIVersion,
		Kind:       protocol.KindVerifyRequest,
		Config:     configJSON(t, cfg),
		Image:      protocol.Image{Transport: "conformance", Manifest: optionalFile(t, c.dir, "artifact", defaultArtifact)},
		Signatures: []protocol.Signature{{
			Format: protocol.FormatSigstoreBundle,
			// The malformed-JSON case cannot travel through the request
			// decoder (it would refuse the whole request); Evaluate must
			// still refuse it as one bad signature.
			Bundle: readFile(t, filepath.Join(c.dir, "bundle.sigstore.json")),
		}},
	}
}

// verdict runs the case; an INVALID_CONFIG error (a trusted root that does not
// parse) counts as a rejection, which is what the host makes of it.
func (c conformanceCase) verdict(t *testing.T) (accepted bool, reason string) {
	resp, err := Evaluate(c.request(t))
	if err != nil {
		var coded *protocol.CodedError
		if !asCoded(err, &coded) || coded.Code != protocol.CodeInvalidConfig {
			t.Fatalf("Evaluate: %v", err)
		}
		return false, "INVALID_CONFIG: " + coded.Message
	}
	if resp.Verdict == protocol.VerdictAccept {
		return true, resp.Reason
	}
	return false, resp.Signatures[0].Reason
}

// TestConformance runs every case. No case is excepted: managed-key-happy-path,
// which the NOTICE expects to need a newer public-good root (its RFC 3161
// timestamp is from the public-good TSA, which the copy lacks: it lists only
// GitHub's), passes because the timestamp is not needed. Its Rekor v1 SET from a
// trusted log is a verified time, and an unverifiable timestamp beside a verified
// time is ignored, never trusted (TestConformanceSpotChecks shows the time used).
func TestConformance(t *testing.T) {
	var accepted, rejected, failed int
	for _, c := range conformanceCases(t) {
		var gotAccept bool
		ok := t.Run(c.name, func(t *testing.T) {
			var reason string
			gotAccept, reason = c.verdict(t)
			t.Logf("accepted=%v: %s", gotAccept, reason)
			if gotAccept == c.wantFail {
				t.Fatalf("accepted=%v, want %v: %s", gotAccept, !c.wantFail, reason)
			}
			want, listed := conformanceRejections[c.name]
			switch {
			case c.wantFail && !listed:
				t.Fatalf("no expected reason listed in conformanceRejections for %s", c.name)
			case c.wantFail && !strings.Contains(reason, want):
				t.Fatalf("rejected for another reason than expected:\n got: %s\nwant: ...%s...", reason, want)
			}
		})
		switch {
		case !ok:
			failed++
		case gotAccept:
			accepted++
		default:
			rejected++
		}
	}
	t.Logf("conformance: %d cases, %d happy cases accepted, %d _fail cases rejected, %d wrong", accepted+rejected+failed, accepted, rejected, failed)
}

// TestConformanceSpotChecks looks behind the cases whose bundle sigstore-go
// refuses for an incidental defect before it reaches the one the README names.
func TestConformanceSpotChecks(t *testing.T) {
	caseNamed := func(name string) conformanceCase {
		return conformanceCase{name: name, dir: filepath.Join(conformanceDir, name)}
	}
	t.Run("the time-outside-certificate case with its timestamp unwrapped is rejected for the time", func(t *testing.T) {
		c := caseNamed("rekor2-timestamp-with-incorrect-time_fail")
		req := c.request(t)
		// The suite's README made it with `base64`, which wraps lines; protojson
		// refuses the newlines, other clients skip them.
		var b map[string]any
		if err := json.Unmarshal(req.Signatures[0].Bundle, &b); err != nil {
			t.Fatal(err)
		}
		ts := b["verificationMaterial"].(map[string]any)["timestampVerificationData"].(map[string]any)["rfc3161Timestamps"].([]any)[0].(map[string]any)
		ts["signedTimestamp"] = strings.ReplaceAll(ts["signedTimestamp"].(string), "\n", "")
		req.Signatures[0].Bundle = configJSON(t, b)
		resp := evaluate(t, req)
		if want := "certificate chain was not valid at the signing time 2025-07-15T10:33:31Z"; resp.Verdict != protocol.VerdictReject || !strings.Contains(resp.Reason, want) {
			t.Fatalf("%s: %s; want a reason containing %q", resp.Verdict, resp.Reason, want)
		}
	})
	t.Run("the wrong-key case with a real other key is rejected by the signature", func(t *testing.T) {
		c := caseNamed("managed-key-wrong-key_fail")
		key, err := newKeyFile(t)
		if err != nil {
			t.Fatal(err)
		}
		req := c.request(t)
		req.Config = configJSON(t, map[string]any{
			"keyPath":         key.path,
			"trustedRootPath": abs(t, filepath.Join(conformanceDir, conformancePublic)),
			"signedIdentity":  map[string]any{"type": "digestOnly"},
		})
		resp := evaluate(t, req)
		if want := "transparency log entry was made with another key than the trusted key"; resp.Verdict != protocol.VerdictReject || !strings.Contains(resp.Reason, want) {
			t.Fatalf("%s: %s; want a reason containing %q", resp.Verdict, resp.Reason, want)
		}
	})
	t.Run("the managed-key happy path takes its time from the Rekor SET, not the unverifiable timestamp", func(t *testing.T) {
		resp := evaluate(t, caseNamed("managed-key-happy-path").request(t))
		if resp.Verdict != protocol.VerdictAccept {
			t.Fatal(resp.Reason)
		}
		// integratedTime 1766077479 in its tlog entry.
		if resp.Accepted.Time == nil || *resp.Accepted.Time != "2025-12-18T17:04:39Z" {
			t.Fatalf("accepted.time %v", resp.Accepted.Time)
		}
	})
	t.Run("a Rekor v2 happy path takes its time from the timestamp", func(t *testing.T) {
		resp := evaluate(t, caseNamed("trust-root-tsa-validity-end-inclusive").request(t))
		if resp.Verdict != protocol.VerdictAccept {
			t.Fatal(resp.Reason)
		}
		if resp.Accepted.Time == nil || *resp.Accepted.Time != "2025-06-12T12:02:20Z" {
			t.Fatalf("accepted.time %v", resp.Accepted.Time)
		}
	})
}
