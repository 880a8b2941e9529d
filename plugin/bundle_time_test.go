package plugin

import (
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/fixture"
)

// TestBundleTransparencyAndTime: a certificate bundle needs an entry in a
// trusted log, and a verified time from a SET or a trusted TSA; an inclusion
// proof proves the entry but its integratedTime is not signed.
func TestBundleTransparencyAndTime(t *testing.T) {
	env := newTestEnv(t)
	other, err := fixture.NewInstance() // a Sigstore deployment nobody trusts
	if err != nil {
		t.Fatal(err)
	}
	leaf := env.leaf(t, fixture.GitHubReusableWorkflow())
	noSCT := fixture.GitHubReusableWorkflow()
	noSCT.EmbedSCT = false
	leafWithoutSCT := env.leaf(t, noSCT)
	untrustedLeaf, err := other.IssueLeaf(fixture.GitHubReusableWorkflow())
	if err != nil {
		t.Fatal(err)
	}
	signing := fixture.DefaultSigningTime
	earlier := signing.Add(-30 * time.Second)
	with := func(change func(*fixture.BundleOptions)) fixture.BundleOptions {
		opts := env.cosignV3()
		change(&opts)
		return opts
	}
	for _, tc := range []struct {
		name   string
		in     *fixture.Instance // who signs (and timestamps); nil: the env's
		signer fixture.Signer
		opts   fixture.BundleOptions
		cfg    map[string]any
		verdict
	}{
		{
			name:    "an entry with an inclusion proof and a SET is accepted at the SET's time",
			opts:    env.cosignV3(),
			verdict: verdict{accept: true, time: formatTime(signing)},
		},
		{
			name:    "a trusted timestamp and an inclusion proof without a SET are accepted at the timestamp's time",
			opts:    with(func(o *fixture.BundleOptions) { o.RFC3161, o.NoInclusionPromise, o.TimestampTime = true, true, earlier }),
			verdict: verdict{accept: true, time: formatTime(earlier)},
		},
		{
			name:    "with both a SET and a timestamp, the earliest verified time is reported",
			opts:    with(func(o *fixture.BundleOptions) { o.RFC3161, o.TimestampTime = true, earlier }),
			verdict: verdict{accept: true, time: formatTime(earlier)},
		},
		{
			name:    "an inclusion proof alone gives no verified time",
			opts:    with(func(o *fixture.BundleOptions) { o.NoInclusionPromise = true }),
			verdict: verdict{reason: "no signed time: the bundle has neither a Rekor SET from a trusted log nor an RFC 3161 timestamp"},
		},
		{
			name:    "a trusted timestamp without any log entry is rejected: a certificate signature must be logged",
			opts:    with(func(o *fixture.BundleOptions) { o.RFC3161, o.NoTlog = true, true }),
			verdict: verdict{reason: "bundle has no transparency log entry, and the signature must be in a trusted transparency log"},
		},
		{
			name:    "an entry in an untrusted log is rejected",
			opts:    with(func(o *fixture.BundleOptions) { o.Rekor = other.Rekor }),
			verdict: verdict{reason: "which is not a trusted transparency log"},
		},
		{
			name:    "a timestamp from an untrusted TSA is no time",
			in:      other,
			opts:    with(func(o *fixture.BundleOptions) { o.RFC3161, o.NoInclusionPromise, o.Rekor = true, true, env.in.Rekor }),
			verdict: verdict{reason: "its RFC 3161 timestamp does not verify with a trusted TSA"},
		},
		{
			name:    "a timestamp from an untrusted TSA beside a SET is ignored, not trusted",
			in:      other,
			opts:    with(func(o *fixture.BundleOptions) { o.RFC3161, o.TimestampTime, o.Rekor = true, earlier, env.in.Rekor }),
			verdict: verdict{accept: true, time: formatTime(signing)},
		},
		{
			name:    "a timestamp after the certificate expired is rejected",
			opts:    with(func(o *fixture.BundleOptions) { o.RFC3161, o.TimestampTime = true, signing.Add(time.Hour) }),
			verdict: verdict{reason: "certificate chain was not valid at the signing time 2026-05-24T11:11:12Z"},
		},
		{
			name:    "a SET time after the certificate expired is rejected",
			opts:    with(func(o *fixture.BundleOptions) { o.IntegratedTime = signing.Add(time.Hour) }),
			verdict: verdict{reason: "Rekor SET time 2026-05-24T11:11:12Z is outside the certificate's validity"},
		},
		{
			name:    "a certificate from an untrusted Fulcio CA is rejected",
			signer:  untrustedLeaf,
			opts:    env.cosignV3(),
			verdict: verdict{reason: "certificate does not chain to a trusted Fulcio CA"},
		},
		{
			name:    "a certificate without an SCT is rejected when the trusted root lists CT logs",
			signer:  leafWithoutSCT,
			opts:    env.cosignV3(),
			verdict: verdict{reason: "certificate has no valid signed certificate timestamp (SCT) from a trusted CT log"},
		},
		{
			name:    "a certificate without an SCT is accepted with requireSCT false",
			signer:  leafWithoutSCT,
			opts:    env.cosignV3(),
			cfg:     map[string]any{"requireSCT": false},
			verdict: verdict{accept: true},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, signer := tc.in, tc.signer
			if in == nil {
				in = env.in
			}
			if signer == nil {
				signer = leaf
			}
			cfg := env.bundleConfig(map[string]any{"signedIdentity": digestOnly})
			for k, v := range tc.cfg {
				cfg[k] = v
			}
			sig := bundleSignature(t, env.bundleProto(t, in, signer, tc.opts))
			tc.check(t, evaluate(t, env.request(t, cfg, sig)))
		})
	}
}

// TestTrustedRootWindows: every CA, log and TSA of a trusted root counts only
// inside its validity window.
func TestTrustedRootWindows(t *testing.T) {
	env := newTestEnv(t)
	leaf := env.leaf(t, fixture.GitHubReusableWorkflow())
	signing := fixture.DefaultSigningTime
	before := fixture.Window{End: signing.Add(-time.Hour)} // retired an hour before the signature
	after := fixture.Window{Start: signing.Add(time.Hour)} // trusted only from an hour after
	around := fixture.Window{Start: signing.Add(-time.Hour), End: signing.Add(time.Hour)}
	setOnly := env.cosignV3()
	tsaOnly := env.cosignV3()
	tsaOnly.RFC3161, tsaOnly.NoInclusionPromise = true, true

	for _, tc := range []struct {
		name     string
		validity fixture.Validity
		opts     fixture.BundleOptions
		verdict
	}{
		{"every service valid around the signature accepts", fixture.Validity{Fulcio: around, Rekor: around, CTLog: around, TSA: around}, setOnly, verdict{accept: true}},
		{"the same with a timestamp instead of a SET accepts", fixture.Validity{Fulcio: around, Rekor: around, CTLog: around, TSA: around}, tsaOnly, verdict{accept: true}},
		{"a Fulcio CA retired before the signature rejects", fixture.Validity{Fulcio: before}, setOnly, verdict{reason: "certificate does not verify with a trusted Fulcio CA at 2026-05-24T10:11:12Z"}},
		{"a Fulcio CA trusted only after the signature rejects", fixture.Validity{Fulcio: after}, setOnly, verdict{reason: "certificate does not verify with a trusted Fulcio CA at 2026-05-24T10:11:12Z"}},
		{"a Rekor key retired before the SET rejects", fixture.Validity{Rekor: before}, setOnly, verdict{reason: "rekor log public key not valid at payload integrated time"}},
		{"a Rekor key retired before the timestamp rejects an entry without a SET", fixture.Validity{Rekor: before}, tsaOnly, verdict{reason: "transparency log entry is outside its log's validity window"}},
		{"a Rekor key trusted only after the timestamp rejects an entry without a SET", fixture.Validity{Rekor: after}, tsaOnly, verdict{reason: "was not valid at 2026-05-24T10:11:12Z"}},
		{"a TSA retired before the timestamp rejects", fixture.Validity{TSA: before}, tsaOnly, verdict{reason: "timestamp is after the validity period end"}},
		{"a CT log retired before the SCT rejects", fixture.Validity{CTLog: before}, setOnly, verdict{reason: "signed certificate timestamp"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root, err := env.in.TrustedRootJSONWith(tc.validity)
			if err != nil {
				t.Fatal(err)
			}
			cfg := map[string]any{
				"trustedRootPath": writeFile(t, "trusted_root.json", root),
				"identities":      []any{githubIdentity},
				"signedIdentity":  digestOnly,
			}
			tc.check(t, evaluate(t, env.request(t, cfg, env.bundle(t, leaf, tc.opts))))
		})
	}

	t.Run("of two trusted roots, each is honoured only inside its own windows", func(t *testing.T) {
		successor, err := fixture.NewInstance() // the deployment that took over
		if err != nil {
			t.Fatal(err)
		}
		retired, err := env.in.TrustedRootJSONWith(fixture.Validity{Fulcio: before, Rekor: before, CTLog: before, TSA: before})
		if err != nil {
			t.Fatal(err)
		}
		current, err := successor.TrustedRootJSONWith(fixture.Validity{Fulcio: around, Rekor: around, CTLog: around, TSA: around})
		if err != nil {
			t.Fatal(err)
		}
		cfg := map[string]any{
			"trustedRootPaths": []any{writeFile(t, "retired.json", retired), writeFile(t, "current.json", current)},
			"identities":       []any{githubIdentity},
			"signedIdentity":   digestOnly,
		}
		successorLeaf, err := successor.IssueLeaf(fixture.GitHubReusableWorkflow())
		if err != nil {
			t.Fatal(err)
		}
		verdict{accept: true}.check(t, evaluate(t, env.request(t, cfg, bundleSignature(t, env.bundleProto(t, successor, successorLeaf, env.cosignV3())))))
		// The retired deployment's log is checked first.
		verdict{reason: "rekor log public key not valid at payload integrated time"}.check(t, evaluate(t, env.request(t, cfg, env.bundle(t, leaf, env.cosignV3()))))
	})
}
