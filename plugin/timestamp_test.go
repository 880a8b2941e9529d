package plugin

import (
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// TestLegacyRFC3161Timestamp: cosign's dev.sigstore.cosign/rfc3161timestamp
// annotation goes into the v0.1 bundle a legacy signature becomes, so a trusted
// TSA's time is a second verified time; the Rekor SET stays required.
func TestLegacyRFC3161Timestamp(t *testing.T) {
	env := newTestEnv(t)
	leaf := env.leaf(t, fixture.GitLabCI())
	gitlab := map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}
	trustedRoot := env.trustedRoot(gitlab)
	containersImageStyle := map[string]any{ // no TSA to trust
		"fulcio":             map[string]any{"caPath": env.fulcioRootPath},
		"rekorPublicKeyPath": env.rekorKeyPath,
		"identities":         []any{gitlab},
	}
	signing := fixture.DefaultSigningTime
	earlier := signing.Add(-30 * time.Second)
	timestamped := func(at time.Time) fixture.LegacyOptions {
		return fixture.LegacyOptions{RFC3161: true, TimestampTime: at}
	}
	withAnnotation := func(value string) func(*protocol.Signature) {
		return func(sig *protocol.Signature) { sig.Annotations[annotationRFC3161] = value }
	}
	for _, tc := range []struct {
		name   string
		cfg    map[string]any
		opts   fixture.LegacyOptions
		change func(*protocol.Signature)
		verdict
	}{
		{
			name:    "a trusted timestamp is accepted and its earlier time reported",
			cfg:     trustedRoot,
			opts:    timestamped(earlier),
			verdict: verdict{accept: true, signed: env.ref, time: formatTime(earlier)},
		},
		{
			name:    "a timestamp after the certificate expired is rejected, though the SET is in time",
			cfg:     trustedRoot,
			opts:    timestamped(signing.Add(time.Hour)),
			verdict: verdict{reason: "certificate chain was not valid at the signing time 2026-05-24T11:11:12Z"},
		},
		{
			name:    "without a TSA to trust the timestamp is ignored and the SET's time used",
			cfg:     containersImageStyle,
			opts:    timestamped(earlier),
			verdict: verdict{accept: true, signed: env.ref, time: formatTime(signing)},
		},
		{
			name:    "a timestamp does not replace the Rekor SET",
			cfg:     trustedRoot,
			opts:    fixture.LegacyOptions{RFC3161: true, NoSET: true},
			verdict: verdict{reason: "missing dev.sigstore.cosign/bundle annotation"},
		},
		{
			name:    "an annotation that is not JSON is rejected",
			cfg:     trustedRoot,
			change:  withAnnotation("MIIE6jADAgEA"),
			verdict: verdict{reason: "invalid RFC 3161 timestamp in dev.sigstore.cosign/rfc3161timestamp annotation"},
		},
		{
			name:    "an annotation with another field is rejected",
			cfg:     trustedRoot,
			change:  withAnnotation(`{"SignedRFC3161Timestamp": "AQID", "TSA": "x"}`),
			verdict: verdict{reason: `unknown field "TSA"`},
		},
		{
			name:    "an empty timestamp is rejected",
			cfg:     trustedRoot,
			change:  withAnnotation(`{"SignedRFC3161Timestamp": ""}`),
			verdict: verdict{reason: "timestamp.SignedRFC3161Timestamp: must not be empty"},
		},
		{
			name:    "a timestamp that is not a TimeStampResp is ignored beside a verified SET",
			cfg:     trustedRoot,
			change:  withAnnotation(`{"SignedRFC3161Timestamp": "AQID"}`),
			verdict: verdict{accept: true, signed: env.ref, time: formatTime(signing)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sig := env.legacy(t, leaf, env.ref, tc.opts)
			if tc.change != nil {
				tc.change(&sig)
			}
			tc.check(t, evaluate(t, env.request(t, tc.cfg, sig)))
		})
	}

	t.Run("a key signature with a trusted root and a timestamp reports the timestamp's time", func(t *testing.T) {
		key, err := newKeyFile(t)
		if err != nil {
			t.Fatal(err)
		}
		cfg := map[string]any{"keyPath": key.path, "trustedRootPath": env.trustedRootPath}
		sig := env.legacy(t, key.pair, env.ref, timestamped(earlier))
		verdict{accept: true, signed: env.ref, time: formatTime(earlier)}.check(t, evaluate(t, env.request(t, cfg, sig)))
	})
}
