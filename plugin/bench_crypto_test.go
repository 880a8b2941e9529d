package plugin

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"testing"

	ct "github.com/google/certificate-transparency-go"
	ctx509 "github.com/google/certificate-transparency-go/x509"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// legacyCrypto is the cryptography one legacy keyless signature cannot do
// without, on the inputs of BenchmarkVerifyLegacyKeyless's generated GitLab
// signature, parsed and prepared in advance: the certificate chain (two P-384
// signature checks), the signature over the payload, the Rekor SET and the
// embedded SCT (P-256 each).
type legacyCrypto struct {
	leaf          *x509.Certificate
	roots, inter  *x509.CertPool
	payload, sig  []byte
	rekorKey      *ecdsa.PublicKey
	setSigned     []byte // the canonical SET payload
	setSig        []byte
	ctKey         *ecdsa.PublicKey
	sctSigned     []byte // the RFC 6962 signature input
	sctSignature  []byte
	verifyOptions x509.VerifyOptions
}

func newLegacyCrypto(b *testing.B, env *testEnv, leaf *fixture.Leaf, sig protocol.Signature) *legacyCrypto {
	c := &legacyCrypto{leaf: leaf.Cert, payload: sig.Payload, roots: x509.NewCertPool(), inter: x509.NewCertPool()}
	c.roots.AddCert(env.in.Fulcio.Root)
	c.inter.AddCert(env.in.Fulcio.Intermediate)
	c.verifyOptions = x509.VerifyOptions{
		Roots: c.roots, Intermediates: c.inter, CurrentTime: leaf.SigningTime,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	var err error
	if c.sig, err = base64.StdEncoding.DecodeString(sig.Annotations[annotationSignature]); err != nil {
		b.Fatal(err)
	}
	set, err := parseUntrustedRekorSET([]byte(sig.Annotations[annotationRekorSET]))
	if err != nil {
		b.Fatal(err)
	}
	c.setSig = set.signedEntryTimestamp
	if c.setSigned, err = json.Marshal(map[string]any{
		"body": set.body, "integratedTime": set.integratedTime, "logID": hexString(set.logID), "logIndex": set.logIndex,
	}); err != nil {
		b.Fatal(err)
	}
	rekorKey, err := cryptoutils.UnmarshalPEMToPublicKey(env.in.RekorPublicKeyPEM())
	if err != nil {
		b.Fatal(err)
	}
	c.rekorKey = rekorKey.(*ecdsa.PublicKey)
	ctKey, err := cryptoutils.UnmarshalPEMToPublicKey(env.in.CTLogPublicKeyPEM())
	if err != nil {
		b.Fatal(err)
	}
	c.ctKey = ctKey.(*ecdsa.PublicKey)
	ctLeaf, err := ctx509.ParseCertificate(leaf.Cert.Raw)
	if err != nil {
		b.Fatal(err)
	}
	ctIssuer, err := ctx509.ParseCertificate(env.in.Fulcio.Intermediate.Raw)
	if err != nil {
		b.Fatal(err)
	}
	merkleLeaf, err := ct.MerkleTreeLeafForEmbeddedSCT([]*ctx509.Certificate{ctLeaf, ctIssuer}, leaf.SCT.Timestamp)
	if err != nil {
		b.Fatal(err)
	}
	if c.sctSigned, err = ct.SerializeSCTSignatureInput(*leaf.SCT, ct.LogEntry{Leaf: *merkleLeaf}); err != nil {
		b.Fatal(err)
	}
	c.sctSignature = leaf.SCT.Signature.Signature
	return c
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, v := range b {
		out[2*i], out[2*i+1] = digits[v>>4], digits[v&15]
	}
	return string(out)
}

func (c *legacyCrypto) chain() bool {
	_, err := c.leaf.Verify(c.verifyOptions)
	return err == nil
}

func (c *legacyCrypto) signature() bool {
	h := sha256.Sum256(c.payload)
	return ecdsa.VerifyASN1(c.leaf.PublicKey.(*ecdsa.PublicKey), h[:], c.sig)
}

func (c *legacyCrypto) set() bool {
	h := sha256.Sum256(c.setSigned)
	return ecdsa.VerifyASN1(c.rekorKey, h[:], c.setSig)
}

func (c *legacyCrypto) sct() bool {
	h := sha256.Sum256(c.sctSigned)
	return ecdsa.VerifyASN1(c.ctKey, h[:], c.sctSignature)
}

// BenchmarkUnavoidableCrypto is the floor BenchmarkVerifyLegacyKeyless is
// measured against (README, Performance): the same signature's chain and
// ECDSA verifications, nothing else.
func BenchmarkUnavoidableCrypto(b *testing.B) {
	env := newTestEnv(b)
	leaf := env.leaf(b, fixture.GitLabCI())
	c := newLegacyCrypto(b, env, leaf, env.legacy(b, leaf, env.ref, fixture.LegacyOptions{}))
	steps := []struct {
		name string
		run  func() bool
	}{
		{"certificate chain (2 x P-384)", c.chain},
		{"payload signature (P-256)", c.signature},
		{"Rekor SET (P-256)", c.set},
		{"embedded SCT (P-256)", c.sct},
	}
	for _, s := range steps {
		if !s.run() {
			b.Fatalf("%s does not verify: the benchmark would measure a failure", s.name)
		}
	}
	for _, s := range steps {
		b.Run(s.name, func(b *testing.B) {
			for b.Loop() {
				s.run()
			}
		})
	}
	b.Run("all of them, one legacy keyless signature", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, s := range steps {
				s.run()
			}
		}
	})
}
