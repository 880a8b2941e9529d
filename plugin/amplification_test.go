package plugin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// hostileAnswerBound is how long a request of MaxSignatures signatures, one
// of them valid, may take whatever the others carry: a third of the host's
// 30 s, measured in-process on an idle 2-core machine. On a loaded machine the
// bound is relative instead: the request may take at most hostileOverhead
// times as long as one whose other signatures are plain, distinct and each
// verified in full, measured just before it (that is the least a request of
// valid signatures of another identity costs; nothing prunes it).
const (
	hostileAnswerBound = 10 * time.Second
	hostileOverhead    = 1.5
)

// checkAnswerTime fails a hostile request answered over the host's timeout,
// or over hostileAnswerBound and hostileOverhead times the plain one.
func checkAnswerTime(t *testing.T, elapsed, plain time.Duration) {
	t.Helper()
	ratio := float64(elapsed) / float64(plain)
	t.Logf("%v, %.2f times a request of plain signatures (%v)", elapsed, ratio, plain)
	if elapsed > protocol.DefaultTimeout || elapsed > hostileAnswerBound && ratio > hostileOverhead {
		t.Errorf("%v (%.2f times the plain request): over %v", elapsed, ratio, hostileAnswerBound)
	}
}

// distinct makes n signatures that differ from sig and from each other only
// in bytes no one reads: none is a copy of another, so each is verified.
func distinct(n int, sig protocol.Signature) []protocol.Signature {
	return repeat(n, func(i int) protocol.Signature { return distinctEntry(sig, i) })
}

// distinctEntry is sig with an annotation no one reads (a legacy signature) or
// i trailing blanks (a bundle).
func distinctEntry(sig protocol.Signature, i int) protocol.Signature {
	if sig.Bundle != nil {
		sig.Bundle = append(slices.Clone(sig.Bundle), strings.Repeat(" ", i)...)
		return sig
	}
	sig.Annotations = maps.Clone(sig.Annotations)
	sig.Annotations["org.example/copy"] = fmt.Sprint(i)
	return sig
}

// decoys makes CA certificates that bear the name of the fixture's Fulcio
// intermediate, with P-521 keys, issued by another root, or by another key
// under the trusted root's name: crypto/x509 would check the leaf's signature
// with each of them, since each could be its issuer.
type decoys struct {
	keys       []*ecdsa.PrivateKey // P-521, the decoys' own keys
	issuerKey  *ecdsa.PrivateKey
	otherRoot  *x509.Certificate // another root, with its own name
	rootImpost *x509.Certificate // a template that bears the trusted root's name and the other key
	subject    []byte
	serial     int64
}

func newDecoys(t testing.TB, env *testEnv) *decoys {
	t.Helper()
	d := &decoys{subject: env.in.Fulcio.Intermediate.RawSubject}
	for range 3 {
		k, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		d.keys = append(d.keys, k)
	}
	var err error
	if d.issuerKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "decoy root"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Now().AddDate(50, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, d.issuerKey.Public(), d.issuerKey)
	if err != nil {
		t.Fatal(err)
	}
	if d.otherRoot, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	d.rootImpost = &x509.Certificate{RawSubject: env.in.Fulcio.Root.RawSubject, PublicKey: d.issuerKey.Public()}
	return d
}

// make returns n distinct decoys; underTrustedName issues them under the
// trusted root's name (each then costs a check with the root's key, which
// pruning cannot avoid); selfIssued gives them the intermediate's name as
// issuer too (signed by another key).
func (d *decoys) make(t testing.TB, n int, underTrustedName, selfIssued bool) []*x509.Certificate {
	t.Helper()
	out := make([]*x509.Certificate, n)
	for i := range out {
		d.serial++
		key := d.keys[int(d.serial)%len(d.keys)]
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(d.serial), RawSubject: d.subject,
			NotBefore: time.Unix(0, 0), NotAfter: time.Now().AddDate(50, 0, 0),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		}
		parent, signer := d.otherRoot, d.issuerKey
		switch {
		case selfIssued:
			// Not self-signed: each would cost a P-521 check of its
			// self-signature, and then be lent.
			parent = &x509.Certificate{RawSubject: d.subject, PublicKey: d.issuerKey.Public()}
		case underTrustedName:
			parent = d.rootImpost
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), signer)
		if err != nil {
			t.Fatal(err)
		}
		if out[i], err = x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// withChain is a legacy signature with another chain annotation (which no
// signature covers).
func withChain(sig protocol.Signature, certs ...*x509.Certificate) protocol.Signature {
	sig.Annotations = maps.Clone(sig.Annotations)
	var chain []byte
	for _, c := range certs {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	sig.Annotations[annotationChain] = string(chain)
	return sig
}

// TestHostileSignaturesAreAnsweredInTime: requests of MaxSignatures
// signatures whose last is the image's valid one, the others valid keyless
// signatures of another identity (each one a full verification, as an
// attacker who can push to the image's signatures can add) whose chains carry
// decoys, vary, or repeat, are answered within hostileAnswerBound, for both
// trust configurations; and the decoys cost at most one signature check each.
func TestHostileSignaturesAreAnsweredInTime(t *testing.T) {
	if testing.Short() {
		t.Skip("measures requests of 1000 signatures")
	}
	env := newTestEnv(t)
	gitlab := map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}
	matchRepository := map[string]any{"type": "matchRepository"}
	trustedRoot := env.trustedRoot(gitlab)
	trustedRoot["signedIdentity"] = matchRepository
	styles := []struct {
		name string
		cfg  map[string]any
	}{
		{"trustedRootPath", trustedRoot},
		{"fulcio.caPath", map[string]any{
			"fulcio": map[string]any{"caPath": env.fulcioRootPath}, "rekorPublicKeyPath": env.rekorKeyPath,
			"identities": []any{gitlab}, "signedIdentity": matchRepository,
		}},
	}
	good := env.legacy(t, env.leaf(t, fixture.GitLabCI()), env.repo, fixture.LegacyOptions{})
	otherLeaf := env.leaf(t, fixture.EmailIdentity())
	other := env.legacy(t, otherLeaf, env.repo, fixture.LegacyOptions{})
	inter, fulcioRoot := env.in.Fulcio.Intermediate, env.in.Fulcio.Root
	d := newDecoys(t, env)
	const n = MaxSignatures

	copied := d.make(t, 8, false, false)
	scenarios := []struct {
		name string
		sigs func() []protocol.Signature
		// decoysUnderTrustedName is how many distinct decoys bear a trusted
		// issuer's name: each may cost a check with that issuer's key.
		decoysUnderTrustedName int
	}{
		{"copies of one signature with 8 decoys issued by another root", func() []protocol.Signature {
			sig := withChain(other, append(copied, inter, fulcioRoot)...)
			return repeat(n-1, func(int) protocol.Signature { return sig })
		}, 0},
		{"8 distinct decoys per signature, issued under the trusted root's name", func() []protocol.Signature {
			return repeat(n-1, func(int) protocol.Signature {
				return withChain(other, append(d.make(t, 8, true, false), inter, fulcioRoot)...)
			})
		}, 8 * (n - 1)},
		{"8 distinct self-issued decoys per signature", func() []protocol.Signature {
			return repeat(n-1, func(int) protocol.Signature {
				return withChain(other, append(d.make(t, 8, false, true), inter, fulcioRoot)...)
			})
		}, 8 * (n - 1)},
		{"varied chains: reordered, repeated, partial, none, mixed with decoys", func() []protocol.Signature {
			chains := [][]*x509.Certificate{
				{inter, fulcioRoot},
				{fulcioRoot, inter},
				{inter},
				{},
				{inter, inter, inter, fulcioRoot},
				append([]*x509.Certificate{inter}, copied...), append(append([]*x509.Certificate{}, copied[:5]...), inter, fulcioRoot, fulcioRoot),
			}
			return repeat(n-1, func(i int) protocol.Signature {
				if i%3 == 0 {
					return withChain(other, append(d.make(t, 3, i%2 == 0, false), chains[i%len(chains)]...)...)
				}
				return withChain(other, chains[i%len(chains)]...)
			})
		}, 3 * (n - 1) / 6},
	}
	plain := append(distinct(n-1, withChain(other, inter, fulcioRoot)), good)
	plainTime := map[string]time.Duration{}
	for _, style := range styles {
		_, plainTime[style.name] = answer(t, env.request(t, style.cfg, plain...))
	}
	for _, sc := range scenarios {
		sigs := append(sc.sigs(), good)
		for _, style := range styles {
			t.Run(style.name+": "+sc.name, func(t *testing.T) {
				e, elapsed := answer(t, env.request(t, style.cfg, sigs...))
				t.Logf("%d lent-certificate signature checks", e.links.checks)
				checkAnswerTime(t, elapsed, plainTime[style.name])
				// Each distinct decoy under a trusted name is checked once with
				// the trusted key; the real intermediate, lent in caPath
				// style, once; nothing else.
				if limit := sc.decoysUnderTrustedName + 1; e.links.checks > limit {
					t.Errorf("%d signature checks of lent certificates, want at most %d", e.links.checks, limit)
				}
			})
		}
	}
}

// answer evaluates a request whose last signature is valid, and measures it.
func answer(t *testing.T, req *protocol.VerifyRequest) (*evaluation, time.Duration) {
	t.Helper()
	cfg, errs, _ := ParseConfig(req.Config)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	var (
		resp *protocol.VerifyResponse
		e    *evaluation
	)
	_, elapsed := measured(func() { resp, e = cfg.evaluate(&req.Image, req.Signatures) })
	if last := len(req.Signatures) - 1; resp.Verdict != protocol.VerdictAccept || resp.Accepted.Signature != last {
		t.Fatalf("%s", resp.Reason)
	}
	return e, elapsed
}

// TestHostileBundlesAreAnsweredInTime is the same for v0.2 bundles whose
// x509CertificateChain carries the decoys.
func TestHostileBundlesAreAnsweredInTime(t *testing.T) {
	if testing.Short() {
		t.Skip("measures requests of 1000 signatures")
	}
	env := newTestEnv(t)
	cfg := env.bundleConfig(map[string]any{"signedIdentity": digestOnly})
	opts := env.cosignV3()
	opts.Version = "v0.2"
	good := env.bundle(t, env.leaf(t, fixture.GitHubReusableWorkflow()), opts)
	otherProto := env.bundleProto(t, env.in, env.leaf(t, fixture.EmailIdentity()), opts)
	d := newDecoys(t, env)
	_, plainTime := answer(t, env.request(t, cfg, append(distinct(MaxSignatures-1, bundleSignature(t, otherProto)), good)...))
	for _, selfIssued := range []bool{false, true} {
		sigs := repeat(MaxSignatures-1, func(int) protocol.Signature {
			pb := cloneBundle(otherProto)
			chain := pb.GetVerificationMaterial().GetX509CertificateChain()
			for _, c := range d.make(t, 9, true, selfIssued) {
				chain.Certificates = append(chain.Certificates, &protocommon.X509Certificate{RawBytes: c.Raw})
			}
			return bundleSignature(t, pb)
		})
		sigs = append(sigs, good)
		t.Run(fmt.Sprintf("9 distinct decoys per bundle, self-issued %v", selfIssued), func(t *testing.T) {
			_, elapsed := answer(t, env.request(t, cfg, sigs...))
			checkAnswerTime(t, elapsed, plainTime)
		})
	}
}

func repeat(n int, sig func(i int) protocol.Signature) []protocol.Signature {
	out := make([]protocol.Signature, n)
	for i := range out {
		out[i] = sig(i)
	}
	return out
}

func cloneBundle(pb *protobundle.Bundle) *protobundle.Bundle {
	return proto.Clone(pb).(*protobundle.Bundle)
}
