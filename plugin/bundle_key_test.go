package plugin

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/fixture"
)

// TestKeyBundles: keyPath*/keyData* trust keys, each tried with its own
// material; with transparency logs in the config a key bundle needs a log entry
// and a verified time, without them it needs neither.
func TestKeyBundles(t *testing.T) {
	env := newTestEnv(t)
	key, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	other, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	leaf := env.leaf(t, fixture.GitHubReusableWorkflow())
	signing := formatTime(fixture.DefaultSigningTime)
	earlier := fixture.DefaultSigningTime.Add(-30 * time.Second)
	logged := env.cosignV3()
	unlogged := env.cosignV3()
	unlogged.NoTlog = true
	timestampedOnly := unlogged
	timestampedOnly.RFC3161, timestampedOnly.TimestampTime = true, earlier
	proofAndTimestamp := env.cosignV3()
	proofAndTimestamp.RFC3161, proofAndTimestamp.NoInclusionPromise, proofAndTimestamp.TimestampTime = true, true, earlier

	keyOnly := map[string]any{"keyPath": key.path}
	withTrustedRoot := map[string]any{"keyPath": key.path, "trustedRootPath": env.trustedRootPath}
	withRekorKey := map[string]any{"keyPath": key.path, "rekorPublicKeyPath": env.rekorKeyPath}
	for _, tc := range []struct {
		name   string
		cfg    map[string]any
		signer fixture.Signer
		opts   fixture.BundleOptions
		verdict
	}{
		{name: "a key accepts its unlogged bundle, with no time", cfg: keyOnly, opts: unlogged, verdict: verdict{accept: true, time: "null"}},
		{name: "a key alone ignores the log entry it cannot check", cfg: keyOnly, opts: logged, verdict: verdict{accept: true, time: "null"}},
		{name: "keyData works like keyPath", cfg: map[string]any{"keyData": base64.StdEncoding.EncodeToString(key.pair.PublicKeyPEM)}, opts: unlogged, verdict: verdict{accept: true}},
		{name: "any of several keys accepts", cfg: map[string]any{"keyPaths": []any{other.path, key.path}}, opts: unlogged, verdict: verdict{accept: true}},
		{name: "another key rejects, naming it", cfg: map[string]any{"keyPath": other.path}, opts: unlogged, verdict: verdict{reason: "signature was not made by the configured key (" + keyID(t, other.pair) + ")"}},
		{name: "several wrong keys say how many and which", cfg: map[string]any{"keyPaths": []any{other.path, other.path}}, opts: unlogged, verdict: verdict{reason: "signature was not made by any of the 2 configured keys (" + keyID(t, other.pair) + ", " + keyID(t, other.pair) + ")"}},
		{name: "a key with a trusted root accepts a logged bundle at its SET time", cfg: withTrustedRoot, opts: logged, verdict: verdict{accept: true, time: signing}},
		{name: "a key with a trusted root accepts an inclusion proof with a trusted timestamp", cfg: withTrustedRoot, opts: proofAndTimestamp, verdict: verdict{accept: true, time: formatTime(earlier)}},
		{name: "a key with a trusted root rejects an unlogged bundle", cfg: withTrustedRoot, opts: unlogged, verdict: verdict{reason: "bundle has no transparency log entry"}},
		{name: "a key with a trusted root rejects a timestamped but unlogged bundle", cfg: withTrustedRoot, opts: timestampedOnly, verdict: verdict{reason: "bundle has no transparency log entry"}},
		{name: "a key with a Rekor key accepts a logged bundle", cfg: withRekorKey, opts: logged, verdict: verdict{accept: true, time: signing}},
		{name: "a key with a Rekor key rejects an unlogged bundle", cfg: withRekorKey, opts: unlogged, verdict: verdict{reason: "bundle has no transparency log entry"}},
		{name: "a key rejects a certificate bundle", cfg: keyOnly, signer: leaf, opts: logged, verdict: verdict{reason: "bundle is signed with a certificate, but this requirement trusts public keys"}},
		{name: "identities reject a key bundle", cfg: env.bundleConfig(nil), opts: logged, verdict: verdict{reason: "bundle is signed with a public key, but this requirement trusts certificates"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			signer := tc.signer
			if signer == nil {
				signer = key.pair
			}
			cfg := map[string]any{"signedIdentity": digestOnly}
			for k, v := range tc.cfg {
				cfg[k] = v
			}
			resp := evaluate(t, env.request(t, cfg, env.bundle(t, signer, tc.opts)))
			tc.check(t, resp)
			if tc.accept && (resp.Accepted.PublicKey == nil || !strings.HasPrefix(*resp.Accepted.PublicKey, "sha256:") || resp.Accepted.Subject != nil) {
				t.Fatalf("accepted %+v", resp.Accepted)
			}
		})
	}
}
