package plugin

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/digitorus/timestamp"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// bundleTamperBases are valid Sigstore bundles of each shape the plugin reads,
// each with a second valid bundle of the same shape to swap material with.
func bundleTamperBases(t *testing.T) []*tamperBase {
	env := newTestEnv(t)
	key, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	github := func() fixture.Signer { return env.leaf(t, fixture.GitHubReusableWorkflow()) }
	keyPair := func() fixture.Signer { return key.pair }
	trustedRoot := env.bundleConfig(map[string]any{"signedIdentity": digestOnly})
	containersImageStyle := map[string]any{
		"fulcio":             map[string]any{"caPath": env.fulcioRootPath},
		"rekorPublicKeyPath": env.rekorKeyPath,
		"identities":         []any{githubIdentity},
		"signedIdentity":     digestOnly,
	}
	keyWithRekor := map[string]any{"keyPath": key.path, "rekorPublicKeyPath": env.rekorKeyPath, "signedIdentity": digestOnly}

	cosignV3 := env.cosignV3()
	messageV01 := fixture.BundleOptions{Artifact: env.manifest, Version: "v0.1", CertificateChain: true, NoInclusionProof: true}
	timestamped := env.cosignV3()
	timestamped.RFC3161, timestamped.NoInclusionPromise = true, true

	var bases []*tamperBase
	add := func(name string, config map[string]any, signer func() fixture.Signer, opts fixture.BundleOptions) {
		bases = append(bases, &tamperBase{
			name: name, config: config, manifest: env.manifest, ref: env.ref,
			sig: env.bundle(t, signer(), opts), other: env.bundle(t, signer(), opts),
		})
	}
	add("a cosign v3 DSSE bundle (v0.3, inclusion proof and promise) under a trusted root", trustedRoot, github, cosignV3)
	add("a v0.1 message-signature bundle with a certificate chain under containers/image style trust", containersImageStyle, github, messageV01)
	add("a key-signed DSSE bundle with a Rekor entry", keyWithRekor, keyPair, cosignV3)
	add("a DSSE bundle timed by an RFC 3161 timestamp and an inclusion proof", trustedRoot, github, timestamped)
	return bases
}

// bundleIgnorable tells whether an alteration may leave the bundle valid: it
// touches only data no signature covers and nothing decides on, or re-spells
// signed data so that it parses to the same values. Each such case is named
// with its reason; every other alteration must reject. An ignorable variant
// that accepts must still accept on the base's own verified time.
type bundleIgnorable struct {
	hasPromise bool // the base's entry has a SET
	checkpoint string
	timestamp  *timestamp.Timestamp
}

const (
	tamperEntry      = ".verificationMaterial.tlogEntries[0]"
	tamperCheckpoint = tamperEntry + ".inclusionProof.checkpoint.envelope"
	tamperTimestamp  = ".verificationMaterial.timestampVerificationData.rfc3161Timestamps[0].signedTimestamp"
)

func newBundleIgnorable(t *testing.T, bundle []byte) *bundleIgnorable {
	root, err := parseJSONNode(bundle)
	if err != nil {
		t.Fatal(err)
	}
	ig := &bundleIgnorable{hasPromise: root.find(tamperEntry+".inclusionPromise") != nil}
	if n := root.find(tamperCheckpoint); n != nil {
		ig.checkpoint, _ = n.stringValue()
	}
	if n := root.find(tamperTimestamp); n != nil {
		if ig.timestamp = parseTimestampNode(n); ig.timestamp == nil {
			t.Fatal("the base bundle's timestamp does not parse")
		}
	}
	return ig
}

func (ig *bundleIgnorable) ignorable(m jsonMutation) bool {
	switch {
	case strings.HasPrefix(m.name, tamperEntry+".kindVersion"):
		// An unsigned hint: sigstore-go reads the kind and version from the
		// canonicalized body, which the SET and the inclusion proof cover.
		return true
	case !ig.hasPromise && (strings.HasPrefix(m.name, tamperEntry+".logIndex") || strings.HasPrefix(m.name, tamperEntry+".integratedTime")):
		// Without a SET nothing signs them: the inclusion proof has its own
		// log index, and an unsigned integrated time is no verified time.
		return true
	case strings.HasPrefix(m.name, ".verificationMaterial.publicKey.hint"):
		// Untrusted and chooses nothing: every trusted key is tried in turn.
		return true
	case strings.HasPrefix(m.name, tamperEntry+" duplicated"),
		strings.HasPrefix(m.name, ".verificationMaterial.timestampVerificationData.rfc3161Timestamps[0] duplicated"),
		strings.HasPrefix(m.name, ".verificationMaterial.x509CertificateChain.certificates[") && strings.HasSuffix(m.name, "] duplicated"):
		// The same verified entry or timestamp twice is still that one; a
		// repeated chain certificate is the same path-building candidate (a leaf
		// is not a CA and is never lent).
		return true
	case strings.HasPrefix(m.name, tamperCheckpoint+" bit "):
		// The signed note text must be unchanged and each signature line must
		// decode to the same bytes: the key name on a signature line is not
		// signed, and Rekor's note parser decodes base64 leniently (non-zero
		// padding bits re-spell the same signature).
		altered, _ := mutatedValue(m, tamperCheckpoint)
		return sameSignedNote(ig.checkpoint, altered)
	case strings.HasPrefix(m.name, tamperTimestamp+" bit "):
		// The CMS framing around the signed TSTInfo is not covered by the
		// TSA's signature, and pkcs7's BER parser repairs some of it: what
		// counts is that the timestamp parses to the same signed values.
		n, _ := mutatedNode(m, tamperTimestamp)
		ts := parseTimestampNode(n)
		return ts != nil && ts.Time.Equal(ig.timestamp.Time) && bytes.Equal(ts.HashedMessage, ig.timestamp.HashedMessage) &&
			ts.SerialNumber.Cmp(ig.timestamp.SerialNumber) == 0 && ts.HashAlgorithm == ig.timestamp.HashAlgorithm
	}
	return false
}

func mutatedNode(m jsonMutation, path string) (*jsonNode, bool) {
	root, err := parseJSONNode(m.doc)
	if err != nil {
		return nil, false
	}
	n := root.find(path)
	return n, n != nil
}

func mutatedValue(m jsonMutation, path string) (string, bool) {
	n, ok := mutatedNode(m, path)
	if !ok {
		return "", false
	}
	return n.stringValue()
}

func parseTimestampNode(n *jsonNode) *timestamp.Timestamp {
	if n == nil {
		return nil
	}
	b64, _ := n.stringValue()
	der, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil
	}
	ts, err := timestamp.ParseResponse(der)
	if err != nil {
		return nil
	}
	return ts
}

// sameSignedNote tells whether two checkpoint notes have the same text and
// signature lines that decode to the same bytes.
func sameSignedNote(a, b string) bool {
	split := func(note string) (string, [][]byte, bool) {
		i := strings.LastIndex(note, "\n\n")
		if i < 0 {
			return "", nil, false
		}
		var sigs [][]byte
		for _, line := range strings.Split(strings.TrimSuffix(note[i+2:], "\n"), "\n") {
			fields := strings.Fields(line)
			if len(fields) != 3 {
				return "", nil, false
			}
			sig, err := base64.StdEncoding.DecodeString(fields[2])
			if err != nil {
				return "", nil, false
			}
			sigs = append(sigs, sig)
		}
		return note[:i], sigs, strings.HasSuffix(note, "\n")
	}
	textA, sigsA, okA := split(a)
	textB, sigsB, okB := split(b)
	return okA && okB && textA == textB && slices.EqualFunc(sigsA, sigsB, bytes.Equal)
}

// bundleVariants alters every value of the bundle JSON in turn, truncates the
// whole bundle, and flips bits of the manifest.
func bundleVariants(t *testing.T, b *tamperBase) []tamperVariant {
	maxFlips := tamperMaxFlips()
	mutations, err := mutateJSON(b.sig.Bundle, b.other.Bundle, maxFlips, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []tamperVariant
	with := func(field, name string, bundle []byte) {
		s := b.sig
		s.Bundle = bundle
		out = append(out, tamperVariant{field: field, name: name, sigs: []protocol.Signature{s}})
	}
	ig := newBundleIgnorable(t, b.sig.Bundle)
	for _, m := range mutations {
		with(m.field, m.name, m.doc)
		out[len(out)-1].ignorable = ig.ignorable(m)
	}
	for _, n := range []int{0, 1, len(b.sig.Bundle) / 3, len(b.sig.Bundle) / 2, len(b.sig.Bundle) - 1} {
		with("truncation", fmt.Sprintf("bundle truncated to %d bytes", n), b.sig.Bundle[:n])
	}
	for _, j := range flipPositions(len(b.manifest), flipStride(len(b.manifest), maxFlips/3)) {
		out = append(out, tamperVariant{field: "manifest", name: fmt.Sprintf("manifest bit %d of byte %d flipped", j%8, j/8), manifest: flipBit(b.manifest, j), sigs: []protocol.Signature{b.sig}})
	}
	return out
}

func TestTamperedBundlesReject(t *testing.T) {
	var counts tamperCounts
	t.Cleanup(func() { counts.report(t, "bundles") })
	for _, b := range bundleTamperBases(t) {
		t.Run("every alteration of "+b.name+" rejects", func(t *testing.T) {
			t.Parallel()
			b.run(t, bundleVariants(t, b), &counts)
		})
	}
}
