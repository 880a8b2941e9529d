package plugin

import (
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/protocol"
)

// The tamper matrix: start from a valid signature, alter one thing, and the
// plugin must reject; never accept, never panic. Every alteration is mechanical,
// so the matrix covers each byte of each field rather than the cases someone
// thought of. Alterations that leave a signature valid are left out by name,
// each with the reason it must still verify.

// tamperMaxFlips bounds the bit flips per field: each byte of small fields,
// evenly spread over large ones. -short samples far fewer.
func tamperMaxFlips() int {
	if testing.Short() {
		return 24
	}
	return 320
}

// tamperVariant is one altered request: the base's image and signatures with
// one change.
type tamperVariant struct {
	field    string // the kind of alteration, for the counts
	name     string
	manifest []byte // nil: the base's
	sigs     []protocol.Signature
	// ignorable marks material a verifier may ignore when it does not verify
	// (an optional second time source): the variant may then still accept,
	// but only on the base's own verified time.
	ignorable bool
}

// tamperBase is a valid signature under its config.
type tamperBase struct {
	name     string
	config   map[string]any
	manifest []byte
	ref      string
	sig      protocol.Signature
	other    protocol.Signature // a second valid signature, for swaps
}

// tamperCounts adds up variants by field across parallel subtests.
type tamperCounts struct {
	mu      sync.Mutex
	byField map[string]int
	total   int
}

func (c *tamperCounts) add(field string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byField == nil {
		c.byField = map[string]int{}
	}
	c.byField[field]++
	c.total++
}

func (c *tamperCounts) report(t *testing.T, what string) {
	fields := slices.Collect(maps.Keys(c.byField))
	sort.Strings(fields)
	var parts []string
	ignored := 0
	for _, f := range fields {
		parts = append(parts, fmt.Sprintf("%s %d", f, c.byField[f]))
		if strings.HasSuffix(f, " (ignored)") {
			ignored += c.byField[f]
		}
	}
	t.Logf("%d altered %s: none accepted, except %d alterations of ignorable material accepted on the base's own verified time; by field: %s",
		c.total, what, ignored, strings.Join(parts, ", "))
}

// run checks that the base accepts and that every variant rejects.
func (b *tamperBase) run(t *testing.T, variants []tamperVariant, counts *tamperCounts) {
	t.Helper()
	cfg, errs, _ := ParseConfig(configJSON(t, b.config))
	if len(errs) > 0 {
		t.Fatalf("config: %v", errs)
	}
	ref := b.ref
	image := protocol.Image{Transport: "docker", DockerReference: &ref, Manifest: b.manifest}
	var baseTime string
	for i, sig := range []protocol.Signature{b.sig, b.other} {
		resp := cfg.Evaluate(&image, []protocol.Signature{sig})
		if resp.Verdict != protocol.VerdictAccept {
			t.Fatalf("the base signature is not accepted: %s", resp.Reason)
		}
		if i == 0 {
			baseTime = deref(resp.Accepted.Time)
		}
	}
	if len(variants) < 100 {
		t.Fatalf("only %d variants: the matrix generator is broken", len(variants))
	}
	for _, v := range variants {
		img := image
		if v.manifest != nil {
			img.Manifest = v.manifest
		}
		resp, panicked := evaluateNoPanic(cfg, &img, v.sigs)
		switch {
		case panicked != "":
			t.Errorf("%s: panic: %s", v.name, panicked)
		case v.ignorable && resp.Verdict == protocol.VerdictAccept:
			if got := deref(resp.Accepted.Time); got != baseTime {
				t.Errorf("%s: accepted at %s, not at the base's verified time %s", v.name, got, baseTime)
			}
			counts.add(v.field + " (ignored)")
			continue
		case resp.Verdict != protocol.VerdictReject || resp.Accepted != nil:
			t.Errorf("%s: accepted: %s", v.name, resp.Reason)
		case strings.ContainsAny(resp.Reason, "\r\n"):
			t.Errorf("%s: reason is not one line: %q", v.name, resp.Reason)
		}
		counts.add(v.field)
	}
}

func evaluateNoPanic(cfg *Config, image *protocol.Image, sigs []protocol.Signature) (resp *protocol.VerifyResponse, panicked string) {
	defer func() {
		if r := recover(); r != nil {
			panicked = fmt.Sprintf("%v\n%s", r, debug.Stack())
		}
	}()
	return cfg.Evaluate(image, sigs), ""
}

// legacyTamperBases are valid cosign signatures under each kind of trust.
func legacyTamperBases(t *testing.T) []*tamperBase {
	env := newTestEnv(t)
	key, err := newKeyFile(t)
	if err != nil {
		t.Fatal(err)
	}
	gitlab := map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI}
	signedRepo := map[string]any{"type": "matchRepository"}
	trustedRoot := env.trustedRoot(gitlab)
	trustedRoot["signedIdentity"] = signedRepo
	containersImageStyle := map[string]any{
		"fulcio":             map[string]any{"caPath": env.fulcioRootPath, "oidcIssuer": "https://accounts.google.com", "subjectEmail": "alice@example.com"},
		"rekorPublicKeyPath": env.rekorKeyPath,
		"signedIdentity":     signedRepo,
	}
	keyWithRekor := map[string]any{"keyPath": key.path, "rekorPublicKeyPath": env.rekorKeyPath, "signedIdentity": signedRepo}
	two := func(signer func() fixture.Signer, opts fixture.LegacyOptions) (protocol.Signature, protocol.Signature) {
		return env.legacy(t, signer(), env.repo, opts), env.legacy(t, signer(), env.repo+":other", opts)
	}
	gitlabLeaf := func() fixture.Signer { return env.leaf(t, fixture.GitLabCI()) }
	emailLeaf := func() fixture.Signer { return env.leaf(t, fixture.EmailIdentity()) }
	keyPair := func() fixture.Signer { return key.pair }
	var bases []*tamperBase
	add := func(name string, config map[string]any, signer func() fixture.Signer, opts fixture.LegacyOptions) {
		sig, other := two(signer, opts)
		bases = append(bases, &tamperBase{name: name, config: config, manifest: env.manifest, ref: env.ref, sig: sig, other: other})
	}
	add("a GitLab CI certificate under a trusted root, with SCT", trustedRoot, gitlabLeaf, fixture.LegacyOptions{})
	add("a GitLab CI certificate with an RFC 3161 timestamp", trustedRoot, gitlabLeaf, fixture.LegacyOptions{RFC3161: true})
	add("an email certificate under containers/image style trust", containersImageStyle, emailLeaf, fixture.LegacyOptions{})
	add("a key signature with a Rekor SET", keyWithRekor, keyPair, fixture.LegacyOptions{})
	return bases
}

// legacyVariants alters every field of base.sig in turn.
func legacyVariants(t *testing.T, b *tamperBase) []tamperVariant {
	maxFlips := tamperMaxFlips()
	var out []tamperVariant
	withSig := func(field, name string, change func(s *protocol.Signature)) {
		s := b.sig
		s.Payload = slices.Clone(s.Payload)
		s.Annotations = maps.Clone(s.Annotations)
		change(&s)
		out = append(out, tamperVariant{field: field, name: name, sigs: []protocol.Signature{s}})
	}
	annotation := func(key string) (string, bool) {
		v, ok := b.sig.Annotations[key]
		return v, ok
	}
	_, keyMode := b.config["keyPath"]
	_, needChain := b.config["fulcio"] // a trusted root lists the intermediate itself

	// The payload, byte by byte, and truncated.
	for _, j := range flipPositions(len(b.sig.Payload), flipStride(len(b.sig.Payload), maxFlips)) {
		withSig("payload", fmt.Sprintf("payload bit %d of byte %d flipped", j%8, j/8), func(s *protocol.Signature) { s.Payload = flipBit(s.Payload, j) })
	}
	for _, n := range truncations(len(b.sig.Payload)) {
		withSig("truncation", fmt.Sprintf("payload truncated to %d bytes", n), func(s *protocol.Signature) { s.Payload = s.Payload[:n] })
	}

	// The signature, as DER bytes and as its base64 text.
	sigDER, err := base64.StdEncoding.DecodeString(b.sig.Annotations[annotationSignature])
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range flipPositions(len(sigDER), flipStride(len(sigDER), maxFlips)) {
		withSig("signature", fmt.Sprintf("signature bit %d of byte %d flipped", j%8, j/8), func(s *protocol.Signature) {
			s.Annotations[annotationSignature] = base64.StdEncoding.EncodeToString(flipBit(sigDER, j))
		})
	}
	for _, n := range truncations(len(sigDER)) {
		withSig("truncation", fmt.Sprintf("signature truncated to %d bytes", n), func(s *protocol.Signature) {
			s.Annotations[annotationSignature] = base64.StdEncoding.EncodeToString(sigDER[:n])
		})
	}

	// Certificates, as DER inside their PEM: the leaf, and the chain's
	// intermediate where the trust does not already hold it. A key requirement
	// reads no certificate at all (as sigstoreSigned), so it has none to alter.
	pemFields := map[string]bool{}
	if !keyMode {
		pemFields[annotationCert] = true
		if needChain {
			pemFields[annotationChain] = true
		}
	}
	for key := range pemFields {
		text, _ := annotation(key)
		block, rest := pem.Decode([]byte(text))
		if block == nil {
			t.Fatalf("%s holds no PEM", key)
		}
		field := map[string]string{annotationCert: "certificate", annotationChain: "chain"}[key]
		for _, j := range flipPositions(len(block.Bytes), flipStride(len(block.Bytes), maxFlips)) {
			withSig(field, fmt.Sprintf("%s bit %d of DER byte %d flipped", field, j%8, j/8), func(s *protocol.Signature) {
				s.Annotations[key] = string(pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: flipBit(block.Bytes, j)})) + string(rest)
			})
		}
		// Without its final newline a PEM text is still whole.
		trimmed := strings.TrimRight(text, "\n")
		for _, n := range truncations(len(trimmed)) {
			withSig("truncation", fmt.Sprintf("%s PEM truncated to %d bytes", field, n), func(s *protocol.Signature) { s.Annotations[key] = trimmed[:n] })
		}
	}

	// The SET and the timestamp: every value in their JSON (SET signature,
	// body, integrated time, log index, log ID), dropped, duplicated, swapped.
	// A timestamp that no longer verifies is ignored, as sigstore-go ignores
	// timestamps from unknown authorities: the SET alone is a verified time (and
	// containers/image reads no timestamp at all). Malformed timestamp JSON
	// still rejects; either way the verdict may only rest on the SET's time.
	for _, key := range []string{annotationRekorSET, annotationRFC3161} {
		text, ok := annotation(key)
		if !ok {
			continue
		}
		mutations, err := mutateJSON([]byte(text), []byte(b.other.Annotations[key]), maxFlips, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mutations {
			withSig(prefixField(key, m.field), key+": "+m.name, func(s *protocol.Signature) { s.Annotations[key] = string(m.doc) })
			out[len(out)-1].ignorable = key == annotationRFC3161
		}
		for _, n := range truncations(len(text)) {
			withSig("truncation", fmt.Sprintf("%s truncated to %d bytes", key, n), func(s *protocol.Signature) { s.Annotations[key] = text[:n] })
		}
	}

	// Each annotation dropped. Not dropped: the chain where the trust lists the
	// intermediate, and anything a key requirement does not read (certificates),
	// because the signature stays valid without them; the RFC 3161 timestamp,
	// which is an optional second time (the SET is required on its own).
	for _, key := range []string{annotationSignature, annotationCert, annotationChain, annotationRekorSET} {
		if _, ok := annotation(key); !ok || (keyMode && key != annotationSignature && key != annotationRekorSET) || (key == annotationChain && !needChain) {
			continue
		}
		withSig("annotation dropped", key+" dropped", func(s *protocol.Signature) { delete(s.Annotations, key) })
	}

	// Material swapped with the second valid signature, one field at a time.
	for _, key := range slices.Sorted(maps.Keys(b.sig.Annotations)) {
		if b.sig.Annotations[key] == b.other.Annotations[key] || (keyMode && (key == annotationCert || key == annotationChain)) {
			continue
		}
		withSig("swapped with another signature", key+" swapped", func(s *protocol.Signature) { s.Annotations[key] = b.other.Annotations[key] })
	}
	withSig("swapped with another signature", "payload swapped", func(s *protocol.Signature) { s.Payload = b.other.Payload })
	// A swapped timestamp covers the other signature, so it cannot verify here.
	for i := range out {
		if strings.HasPrefix(out[i].name, annotationRFC3161+" swapped") {
			out[i].ignorable = true
		}
	}

	// The MIME type and the format.
	for _, mime := range []string{"", "application/vnd.dev.cosign.simplesigning.v1+json; charset=utf-8", "application/vnd.dev.cosign.simplesigning.v2+json", "APPLICATION/VND.DEV.COSIGN.SIMPLESIGNING.V1+JSON"} {
		withSig("MIME type", fmt.Sprintf("MIME type %q", mime), func(s *protocol.Signature) { s.MIMEType = mime })
	}
	withSig("format", "format sigstore-bundle", func(s *protocol.Signature) { s.Format = protocol.FormatSigstoreBundle })
	withSig("format", "unknown format", func(s *protocol.Signature) { s.Format, s.Unknown = "x-future", true })

	// The manifest, byte by byte. These are the dearest variants (everything
	// verifies until the digest), so fewer of them.
	for _, j := range flipPositions(len(b.manifest), flipStride(len(b.manifest), maxFlips/3)) {
		out = append(out, tamperVariant{field: "manifest", name: fmt.Sprintf("manifest bit %d of byte %d flipped", j%8, j/8), manifest: flipBit(b.manifest, j), sigs: []protocol.Signature{b.sig}})
	}
	return out
}

func prefixField(annotationKey, field string) string {
	switch annotationKey {
	case annotationRekorSET:
		return "SET " + field
	case annotationRFC3161:
		return "RFC 3161 " + field
	}
	return field
}

func TestTamperedLegacySignaturesReject(t *testing.T) {
	var counts tamperCounts
	t.Cleanup(func() { counts.report(t, "legacy signatures") })
	for _, b := range legacyTamperBases(t) {
		t.Run("every alteration of "+b.name+" rejects", func(t *testing.T) {
			t.Parallel()
			b.run(t, legacyVariants(t, b), &counts)
		})
	}
}

// TestTamperedRequestsAreProtocolErrors alters the request document itself:
// a duplicate key anywhere (in the config, the image, a signature entry, its
// annotations, the bundle inside it) and a truncation anywhere are
// INVALID_REQUEST, before any signature is looked at.
func TestTamperedRequestsAreProtocolErrors(t *testing.T) {
	env := newTestEnv(t)
	legacy := env.legacy(t, env.leaf(t, fixture.GitLabCI()), env.repo, fixture.LegacyOptions{})
	bundle := env.bundle(t, env.leaf(t, fixture.GitHubReusableWorkflow()), env.cosignV3())
	cfg := env.trustedRoot(map[string]any{"issuer": gitlabIssuer, "subjectURI": gitlabURI})
	cfg["signedIdentity"] = map[string]any{"type": "matchRepository"}
	req := env.request(t, cfg, legacy, bundle)
	req.RequestID = strPtr("tamper")
	doc, err := protocol.Encode(req)
	if err != nil {
		t.Fatal(err)
	}
	doc = []byte(strings.TrimSuffix(string(doc), "\n"))
	if _, err := protocol.DecodeVerifyRequest(doc); err != nil {
		t.Fatalf("the base request does not decode: %v", err)
	}
	mutations, err := mutateJSON(doc, nil, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	var variants []jsonMutation
	for _, m := range mutations {
		if m.field == "duplicate keys" {
			variants = append(variants, m)
		}
	}
	step := max(1, len(doc)/400)
	for n := 0; n < len(doc); n += step {
		variants = append(variants, jsonMutation{field: "truncation", name: fmt.Sprintf("request truncated to %d bytes", n), doc: doc[:n]})
	}
	counts := map[string]int{}
	for _, v := range variants {
		_, err := protocol.DecodeVerifyRequest(v.doc)
		var coded *protocol.CodedError
		if !errors.As(err, &coded) || coded.Code != protocol.CodeInvalidRequest {
			t.Errorf("%s: %v, want INVALID_REQUEST", v.name, err)
		}
		counts[v.field]++
	}
	if counts["duplicate keys"] < 40 {
		t.Fatalf("only %d duplicate-key variants: the generator is broken", counts["duplicate keys"])
	}
	t.Logf("%d altered requests, all INVALID_REQUEST: %d with a duplicate key, %d truncated", len(variants), counts["duplicate keys"], counts["truncation"])
}
