package plugin

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// issued is a certificate made for these tests with its key.
type issued struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

type certSpec struct {
	name       string
	ca         bool
	noBasic    bool // no basic constraints at all
	maxPathLen int  // -1: none
	from, to   time.Time
	eku        []x509.ExtKeyUsage
	permitURI  []string
	extra      []pkix.Extension
	policies   []x509.OID
	uri        string
	key        *ecdsa.PrivateKey // reuse a key (for a twin with another body)
}

var chainEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(days int) time.Time { return chainEpoch.AddDate(0, 0, days) }

// mint makes a certificate; a nil parent makes it self-signed.
func mint(t *testing.T, spec certSpec, parent *issued) *issued {
	t.Helper()
	key := spec.key
	if key == nil {
		var err error
		if key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	from, to := spec.from, spec.to
	if from.IsZero() {
		from = at(-100)
	}
	if to.IsZero() {
		to = at(100)
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		NotBefore:       from,
		NotAfter:        to,
		ExtKeyUsage:     spec.eku,
		ExtraExtensions: spec.extra,
		Policies:        spec.policies,
	}
	if spec.name != "" {
		tmpl.Subject = pkix.Name{Organization: []string{"chains test"}, CommonName: spec.name}
	}
	if spec.ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	}
	if !spec.noBasic {
		tmpl.BasicConstraintsValid = true
		tmpl.IsCA = spec.ca
		if spec.ca && spec.maxPathLen >= 0 {
			tmpl.MaxPathLen = spec.maxPathLen
			tmpl.MaxPathLenZero = spec.maxPathLen == 0
		} else {
			tmpl.MaxPathLen = -1
		}
	}
	if len(spec.permitURI) > 0 {
		tmpl.PermittedURIDomains = spec.permitURI
	}
	if spec.uri != "" {
		u, err := url.Parse(spec.uri)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = []*url.URL{u}
	}
	signer, signerCert := key, tmpl
	if parent != nil {
		signer, signerCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signerCert, &key.PublicKey, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &issued{cert: cert, key: key}
}

func caSpec(name string) certSpec { return certSpec{name: name, ca: true, maxPathLen: -1} }

func leafSpec(uri string) certSpec {
	return certSpec{maxPathLen: -1, uri: uri, eku: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, from: at(-1), to: at(1)}
}

// requireExplicitPolicyZero is a policyConstraints extension with
// requireExplicitPolicy 0, which crypto/x509 does not write itself.
func requireExplicitPolicyZero(t *testing.T) pkix.Extension {
	t.Helper()
	// SEQUENCE { [0] INTEGER 0 }
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 36}, Value: []byte{0x30, 0x03, 0x80, 0x01, 0x00}}
}

func anyPolicy(t *testing.T) x509.OID {
	t.Helper()
	oid, err := x509.OIDFromInts([]uint64{2, 5, 29, 32, 0})
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

func testPolicy(t *testing.T) x509.OID {
	t.Helper()
	oid, err := x509.OIDFromInts([]uint64{1, 3, 6, 1, 4, 1, 57264, 1})
	if err != nil {
		t.Fatal(err)
	}
	return oid
}

// chainWorld is a Fulcio CA and the signing leaves to verify with it, each
// verified at each time through withIntermediates and by the plain
// FulcioCertificateAuthority.
type chainWorld struct {
	name  string
	ca    *root.FulcioCertificateAuthority
	leafs []*x509.Certificate
	// lent, when set, are per-leaf replacement intermediates (the chain a
	// signature brings), in place of ca.Intermediates.
	lent [][]*x509.Certificate
}

func chainWorlds(t *testing.T) []chainWorld {
	t.Helper()
	uri := "https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"
	var worlds []chainWorld

	plain := func(name string, rootSpec, interSpec certSpec) {
		r := mint(t, rootSpec, nil)
		i := mint(t, interSpec, r)
		worlds = append(worlds, chainWorld{
			name: name, ca: &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), i).cert, mint(t, leafSpec(uri), i).cert},
		})
	}
	plain("root, intermediate, two leaves", caSpec("root"), caSpec("intermediate"))
	rootPathLenZero := caSpec("root")
	rootPathLenZero.maxPathLen = 0
	plain("root allows no intermediate (path length 0)", rootPathLenZero, caSpec("intermediate"))
	interPathLenZero := caSpec("intermediate")
	interPathLenZero.maxPathLen = 0
	plain("intermediate with path length 0", caSpec("root"), interPathLenZero)
	rootConstrained := caSpec("root")
	rootConstrained.permitURI = []string{"github.com"}
	plain("root name-constrains URIs to github.com", rootConstrained, caSpec("intermediate"))
	interConstrained := caSpec("intermediate")
	interConstrained.permitURI = []string{"github.com"}
	plain("intermediate name-constrains URIs to github.com", caSpec("root"), interConstrained)
	rootServerAuth := caSpec("root")
	rootServerAuth.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	plain("root only for server auth", rootServerAuth, caSpec("intermediate"))
	interCodeSigning := caSpec("intermediate")
	interCodeSigning.eku = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	plain("intermediate for code signing, as Fulcio's", caSpec("root"), interCodeSigning)
	interNotCA := caSpec("intermediate")
	interNotCA.ca = false
	plain("intermediate is not a CA", caSpec("root"), interNotCA)
	interNoBasic := caSpec("intermediate")
	interNoBasic.noBasic = true
	plain("intermediate has no basic constraints", caSpec("root"), interNoBasic)
	interPolicy := caSpec("intermediate")
	interPolicy.extra = []pkix.Extension{requireExplicitPolicyZero(t)}
	plain("intermediate requires an explicit policy", caSpec("root"), interPolicy)
	interAnyPolicy := caSpec("intermediate")
	interAnyPolicy.policies = []x509.OID{anyPolicy(t)}
	interAnyPolicy.extra = []pkix.Extension{requireExplicitPolicyZero(t)}
	plain("intermediate lists anyPolicy and requires an explicit policy", caSpec("root"), interAnyPolicy)
	rootPolicy := caSpec("root")
	rootPolicy.extra = []pkix.Extension{requireExplicitPolicyZero(t)}
	plain("root requires an explicit policy", rootPolicy, caSpec("intermediate"))
	interShort := caSpec("intermediate")
	interShort.from, interShort.to = at(-50), at(0)
	plain("intermediate expires at day 0", caSpec("root"), interShort)
	rootShort := caSpec("root")
	rootShort.from, rootShort.to = at(-50), at(0)
	plain("root expires at day 0", rootShort, caSpec("intermediate"))

	{
		r := mint(t, caSpec("root"), nil)
		i := mint(t, caSpec("intermediate"), r)
		worlds = append(worlds, chainWorld{
			name: "CA validity window from day -1 + 1h to day 0 + 1m",
			ca: &root.FulcioCertificateAuthority{
				Root: r.cert, Intermediates: []*x509.Certificate{i.cert},
				ValidityPeriodStart: at(-1).Add(time.Hour), ValidityPeriodEnd: at(0).Add(time.Minute),
			},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), i).cert},
		})
	}
	{
		// Two levels below the root; the upper intermediate allows one below it
		// (enough for its own path) but not the two it has above a leaf.
		r := mint(t, caSpec("root"), nil)
		upperSpec := caSpec("upper intermediate")
		upperSpec.maxPathLen = 0
		upper := mint(t, upperSpec, r)
		lower := mint(t, caSpec("lower intermediate"), upper)
		worlds = append(worlds, chainWorld{
			name:  "upper intermediate allows no intermediate below it",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{upper.cert, lower.cert}},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), lower).cert},
		})
		upperShort := caSpec("upper intermediate")
		upperShort.from, upperShort.to = at(-50), at(0)
		upper2 := mint(t, upperShort, r)
		lower2 := mint(t, caSpec("lower intermediate"), upper2)
		worlds = append(worlds, chainWorld{
			name:  "two intermediates, the upper expires at day 0",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{upper2.cert, lower2.cert}},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), lower2).cert, mint(t, leafSpec(uri), lower2).cert},
		})
	}
	{
		// A twin of the intermediate (same subject and key, other body) that
		// expires at day 0: crypto/x509 searches both.
		r := mint(t, caSpec("root"), nil)
		i := mint(t, caSpec("intermediate"), r)
		twinSpec := caSpec("intermediate")
		twinSpec.key, twinSpec.from, twinSpec.to = i.key, at(-50), at(0)
		twin := mint(t, twinSpec, r)
		worlds = append(worlds, chainWorld{
			name:  "intermediate and a twin with the same subject",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{twin.cert, i.cert}},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), i).cert},
		})
	}
	{
		// Intermediates lent by each signature: the first two bring the real
		// one, the third brings nothing and the fourth an impostor with the same
		// subject but its own key, which signed the fourth leaf.
		r := mint(t, caSpec("root"), nil)
		i := mint(t, caSpec("intermediate"), r)
		impostor := mint(t, caSpec("intermediate"), nil)
		impostorAsCA := &issued{cert: impostor.cert, key: impostor.key}
		forged := mint(t, leafSpec(uri), impostorAsCA)
		worlds = append(worlds, chainWorld{
			name: "lent intermediates differ per signature",
			ca:   &root.FulcioCertificateAuthority{Root: r.cert},
			leafs: []*x509.Certificate{
				mint(t, leafSpec(uri), i).cert, mint(t, leafSpec(uri), i).cert, mint(t, leafSpec(uri), i).cert, forged.cert,
			},
			lent: [][]*x509.Certificate{{i.cert}, {i.cert}, nil, {impostor.cert}},
		})
	}
	{
		// Two levels, lent: the second signature brings the lower intermediate
		// but not the upper one, so it has no path to the root.
		r := mint(t, caSpec("root"), nil)
		upper := mint(t, caSpec("upper intermediate"), r)
		lower := mint(t, caSpec("lower intermediate"), upper)
		worlds = append(worlds, chainWorld{
			name:  "lent intermediates, the second signature lacks the upper one",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), lower).cert, mint(t, leafSpec(uri), lower).cert},
			lent:  [][]*x509.Certificate{{lower.cert, upper.cert}, {lower.cert}},
		})
	}
	{
		// Leaves the same chain accepts or refuses by their own content.
		github := leafSpec("https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main")
		withPolicy := leafSpec(uri)
		withPolicy.policies = []x509.OID{anyPolicy(t)}
		requiresPolicy := leafSpec(uri)
		requiresPolicy.policies = []x509.OID{testPolicy(t)}
		requiresPolicy.extra = []pkix.Extension{requireExplicitPolicyZero(t)}

		rootConstrained := caSpec("root")
		rootConstrained.permitURI = []string{"github.com"}
		r := mint(t, rootConstrained, nil)
		i := mint(t, caSpec("intermediate"), r)
		worlds = append(worlds, chainWorld{
			name:  "root name-constrains URIs to github.com; a github.com leaf, then a gitlab.com one",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}},
			leafs: []*x509.Certificate{mint(t, github, i).cert, mint(t, leafSpec(uri), i).cert},
		})

		interPolicy := caSpec("intermediate")
		interPolicy.policies = []x509.OID{anyPolicy(t)}
		interPolicy.extra = []pkix.Extension{requireExplicitPolicyZero(t)}
		r = mint(t, caSpec("root"), nil)
		i = mint(t, interPolicy, r)
		worlds = append(worlds, chainWorld{
			name:  "intermediate requires an explicit policy; a leaf with one, then one without",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}},
			leafs: []*x509.Certificate{mint(t, withPolicy, i).cert, mint(t, leafSpec(uri), i).cert},
		})

		upperPolicy := caSpec("upper intermediate")
		upperPolicy.policies = []x509.OID{anyPolicy(t)}
		upperPolicy.extra = []pkix.Extension{requireExplicitPolicyZero(t)}
		lowerAny := caSpec("lower intermediate")
		lowerAny.policies = []x509.OID{anyPolicy(t)}
		r = mint(t, caSpec("root"), nil)
		upper := mint(t, upperPolicy, r)
		lower := mint(t, lowerAny, upper)
		worlds = append(worlds, chainWorld{
			name:  "upper intermediate requires an explicit policy; a leaf with one, then one without",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{upper.cert, lower.cert}},
			leafs: []*x509.Certificate{mint(t, withPolicy, lower).cert, mint(t, leafSpec(uri), lower).cert},
		})

		r = mint(t, caSpec("root"), nil)
		i = mint(t, caSpec("intermediate"), r)
		worlds = append(worlds, chainWorld{
			name:  "a plain leaf, then one that requires an explicit policy under intermediates without policies",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), i).cert, mint(t, requiresPolicy, i).cert},
		})
	}
	{
		// A leaf with the root's subject and key and, like it, no SAN:
		// crypto/x509 takes the root for the leaf again and refuses the loop.
		r := mint(t, caSpec("root"), nil)
		i := mint(t, caSpec("intermediate"), r)
		rootLike := leafSpec("")
		rootLike.name, rootLike.key = "root", r.key
		worlds = append(worlds, chainWorld{
			name:  "a leaf, then one with the root's subject and key",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), i).cert, mint(t, rootLike, i).cert},
		})
	}
	{
		// A leaf that names the intermediate as issuer but was signed by
		// another key.
		r := mint(t, caSpec("root"), nil)
		i := mint(t, caSpec("intermediate"), r)
		other := mint(t, caSpec("intermediate"), nil)
		worlds = append(worlds, chainWorld{
			name:  "leaf signed by another key under the intermediate's name",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), i).cert, mint(t, leafSpec(uri), other).cert},
		})
	}
	{
		// Decoys lent with the real intermediate, all bearing its name: one
		// issued under the root's name by another key, one self-issued, one
		// issued by another root. The second leaf's chain lacks the real one.
		r := mint(t, caSpec("root"), nil)
		i := mint(t, caSpec("intermediate"), r)
		otherKey := mint(t, caSpec("other root"), nil)
		underRootName := &issued{cert: &x509.Certificate{RawSubject: r.cert.RawSubject, PublicKey: &otherKey.key.PublicKey}, key: otherKey.key}
		selfIssued := &issued{cert: &x509.Certificate{RawSubject: i.cert.RawSubject, PublicKey: &otherKey.key.PublicKey}, key: otherKey.key}
		decoys := []*x509.Certificate{
			mint(t, caSpec("intermediate"), underRootName).cert,
			mint(t, caSpec("intermediate"), selfIssued).cert,
			mint(t, caSpec("intermediate"), otherKey).cert,
		}
		worlds = append(worlds, chainWorld{
			name:  "decoys bearing the intermediate's name",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), i).cert, mint(t, leafSpec(uri), i).cert},
			lent:  [][]*x509.Certificate{append(slices.Clone(decoys), i.cert), decoys},
		})
	}
	{
		// A leaf issued by the root directly.
		r := mint(t, caSpec("root"), nil)
		i := mint(t, caSpec("intermediate"), r)
		worlds = append(worlds, chainWorld{
			name:  "leaf issued by the root",
			ca:    &root.FulcioCertificateAuthority{Root: r.cert, Intermediates: []*x509.Certificate{i.cert}},
			leafs: []*x509.Certificate{mint(t, leafSpec(uri), r).cert},
		})
	}
	return worlds
}

// caMaterial is trust material holding one Fulcio CA.
type caMaterial struct {
	root.BaseTrustedMaterial
	ca *root.FulcioCertificateAuthority
}

func (m *caMaterial) FulcioCertificateAuthorities() []root.CertificateAuthority {
	return []root.CertificateAuthority{m.ca}
}

// TestLentIntermediatesVerifyAsFulcioCA verifies every leaf of every world at a
// range of times through the material withIntermediates makes, with the
// world's intermediates trusted, and lent instead (as caPath configs need),
// and with each leaf's own lent chain: the answers and chains must be those of
// sigstore-go's FulcioCertificateAuthority given the same certificates.
func TestLentIntermediatesVerifyAsFulcioCA(t *testing.T) {
	times := []time.Time{at(-1), at(0), at(1), at(-2), {}, at(-200), at(200), at(0).Add(time.Second)}
	compared, accepted := 0, 0
	for _, w := range chainWorlds(t) {
		t.Run(w.name, func(t *testing.T) {
			type setup struct {
				trusted []*x509.Certificate
				lent    func(leaf int) []*x509.Certificate
			}
			setups := []setup{
				{w.ca.Intermediates, func(int) []*x509.Certificate { return nil }},
				{nil, func(int) []*x509.Certificate { return w.ca.Intermediates }},
			}
			if w.lent != nil {
				setups = append(setups, setup{w.ca.Intermediates, func(leaf int) []*x509.Certificate { return w.lent[leaf] }})
			}
			for _, s := range setups {
				e := &evaluation{links: newChainLinks()}
				e.links.checking = true
				for _, when := range times {
					for li, leaf := range w.leafs {
						trusted := *w.ca
						trusted.Intermediates = s.trusted
						want := trusted
						want.Intermediates = slices.Concat(s.trusted, s.lent(li))
						wantChains, wantErr := want.Verify(leaf, when)
						material := e.withIntermediates(&caMaterial{ca: &trusted}, s.lent(li))
						cas := material.FulcioCertificateAuthorities()
						if len(cas) != 1 {
							t.Fatalf("%d CAs", len(cas))
						}
						gotChains, gotErr := cas[0].Verify(leaf, when)
						compared++
						if (gotErr == nil) != (wantErr == nil) {
							t.Fatalf("leaf %d at %v: error %v, want %v", li, when, gotErr, wantErr)
						}
						if wantErr != nil {
							continue
						}
						accepted++
						sameChain := func(a, b []*x509.Certificate) bool { return slices.EqualFunc(a, b, (*x509.Certificate).Equal) }
						if !slices.EqualFunc(gotChains, wantChains, sameChain) {
							t.Fatalf("leaf %d at %v: chain %v, want %v", li, when, subjects(gotChains), subjects(wantChains))
						}
					}
				}
			}
		})
	}
	t.Logf("compared %d verifications (%d accepted) with sigstore-go's FulcioCertificateAuthority", compared, accepted)
	if accepted == 0 || accepted == compared {
		t.Fatalf("%d of %d accepted: the worlds no longer test both answers", accepted, compared)
	}
}

func subjects(chains [][]*x509.Certificate) [][]string {
	var out [][]string
	for _, chain := range chains {
		var names []string
		for _, c := range chain {
			names = append(names, c.Subject.CommonName)
		}
		out = append(out, names)
	}
	return out
}
