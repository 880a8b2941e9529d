package e2e_test

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.podman.io/image/v5/docker"

	"github.com/policy-plugins/sigstore/internal/e2e"
	"github.com/policy-plugins/sigstore/internal/policy"
)

// signedSet names which manifests of a layout carry a signature.
type signedSet int

const (
	signedNone      signedSet = iota
	signedTop                 // the top-level manifest: the list, or the single manifest
	signedInstances           // every instance, not the list
	signedAll                 // the list and every instance (cosign sign --recursive)
)

// layoutWant is issue 17's table, written out independently of
// PushLayouts, so that each Layout is checked against what the registry
// really holds.
type layoutWant struct {
	name     string
	accept   bool
	top      string // media type of the manifest pushed at tag 1
	buildx   bool   // the list is image + attestation manifest
	pull     string // what Ref names: "tag", "index" digest, "instance" digest
	signed   signedSet
	bundle   bool
	otherKey bool
}

var layoutTable = []layoutWant{
	{name: "SingleManifestSigned", accept: true, top: e2e.MediaTypeOCIManifest, pull: "tag", signed: signedTop},
	{name: "BuildxIndexSignedLegacy", accept: true, top: e2e.MediaTypeOCIIndex, buildx: true, pull: "tag", signed: signedTop},
	{name: "MultiArchIndexSignedLegacy", accept: true, top: e2e.MediaTypeOCIIndex, pull: "tag", signed: signedTop},
	{name: "MultiArchIndexSignedBundle", accept: true, top: e2e.MediaTypeOCIIndex, pull: "tag", signed: signedTop, bundle: true},
	{name: "DockerListSigned", accept: true, top: e2e.MediaTypeDockerManifestList, pull: "tag", signed: signedTop},
	{name: "MultiArchRecursive", accept: true, top: e2e.MediaTypeOCIIndex, pull: "tag", signed: signedAll},
	{name: "MultiArchInstancesSigned", accept: true, top: e2e.MediaTypeOCIIndex, pull: "tag", signed: signedInstances},
	{name: "MultiArchIndexSignedOtherKey", accept: false, top: e2e.MediaTypeOCIIndex, pull: "tag", signed: signedTop, otherKey: true},
	{name: "MultiArchUnsigned", accept: false, top: e2e.MediaTypeOCIIndex, pull: "tag", signed: signedNone},
	{name: "IndexSignedPulledByInstanceDigest", accept: false, top: e2e.MediaTypeOCIIndex, pull: "instance", signed: signedTop},
	{name: "InstancesSignedPulledByInstanceDigest", accept: true, top: e2e.MediaTypeOCIIndex, pull: "instance", signed: signedInstances},
	{name: "IndexSignedPulledByIndexDigest", accept: true, top: e2e.MediaTypeOCIIndex, pull: "index", signed: signedTop},
}

func TestPushLayouts(t *testing.T) {
	e2e.SkipIfShort(t)
	addr := e2e.StartRegistry(t, e2e.RegistryOptions{})
	start, cpu := time.Now(), childrenCPU(t)
	ls := e2e.PushLayouts(t, addr)
	t.Logf("PushLayouts: %d layouts in %s (skopeo and cosign: %s CPU)",
		len(ls.Cases), time.Since(start).Round(time.Millisecond), (childrenCPU(t) - cpu).Round(time.Millisecond))

	if ls.Registry != addr {
		t.Errorf("Registry = %q, want %q", ls.Registry, addr)
	}
	if bytes.Equal(readFile(t, ls.Key.PublicKey), readFile(t, ls.OtherKey.PublicKey)) {
		t.Fatal("Key and OtherKey are the same key")
	}
	var names []string
	for _, c := range ls.Cases {
		names = append(names, c.Name)
	}
	var wantNames []string
	for _, w := range layoutTable {
		wantNames = append(wantNames, w.name)
	}
	if !slices.Equal(names, wantNames) || !slices.Equal(e2e.LayoutNames, wantNames) {
		t.Fatalf("cases %q (LayoutNames %q), want %q", names, e2e.LayoutNames, wantNames)
	}
	repositories := map[string]string{}
	for _, c := range ls.Cases {
		if other, ok := repositories[c.Repository]; ok {
			t.Errorf("%s and %s share repository %s", other, c.Name, c.Repository)
		}
		repositories[c.Repository] = c.Name
	}

	for i, w := range layoutTable {
		c := ls.Cases[i]
		t.Run(c.Name, func(t *testing.T) {
			checkLayout(t, ls, c, w)
		})
	}
}

// childrenCPU is the CPU time (user and system) of the child processes
// that have ended so far: what the tools cost, whatever the machine's load.
func childrenCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkLayout asserts on the registry that c is the layout w describes.
func checkLayout(t *testing.T, ls e2e.Layouts, c e2e.Layout, w layoutWant) {
	if c.Accept != w.accept || c.Bundle != w.bundle {
		t.Errorf("Accept %v Bundle %v, want %v %v", c.Accept, c.Bundle, w.accept, w.bundle)
	}
	if !strings.HasPrefix(c.Repository, ls.Registry+"/layouts/") {
		t.Errorf("Repository %s is not in %s/layouts/", c.Repository, ls.Registry)
	}

	// The top-level manifest, at tag 1, is what was pushed.
	top, contentType := e2e.GetManifest(t, c.Repository, "1")
	if contentType != w.top || !bytes.Equal(top, c.Image.Manifest) || e2e.Digest(top) != c.Image.Digest || c.Image.MIMEType != w.top {
		t.Fatalf("tag 1: %s (%s), want the pushed %s %s", top, contentType, w.top, c.Image.Digest)
	}

	// The instance a client on this machine evaluates.
	instance := c.Image.Digest
	if w.top != e2e.MediaTypeOCIManifest {
		instance = checkList(t, c, w, top)
	}
	if c.Instance != instance {
		t.Errorf("Instance = %s, want %s", c.Instance, instance)
	}

	// What Ref names, and Index.
	var wantRef, wantIndex string
	switch w.pull {
	case "tag":
		wantRef = c.Repository + ":1"
		if w.top != e2e.MediaTypeOCIManifest {
			wantIndex = c.Image.Digest
		}
	case "index":
		wantRef, wantIndex = c.Repository+"@"+c.Image.Digest, c.Image.Digest
	case "instance":
		wantRef = c.Repository + "@" + instance
	}
	if c.Ref != wantRef || c.Index != wantIndex {
		t.Errorf("Ref %s Index %q, want %s %q", c.Ref, c.Index, wantRef, wantIndex)
	}
	if w.pull != "tag" {
		body, contentType := e2e.GetManifest(t, c.Repository, strings.TrimPrefix(c.Ref, c.Repository+"@"))
		wantType := w.top
		if w.pull == "instance" {
			wantType = e2e.MediaTypeOCIManifest
		}
		if contentType != wantType || e2e.Digest(body) != strings.TrimPrefix(c.Ref, c.Repository+"@") {
			t.Errorf("GET %s: %s, want a %s with that digest", c.Ref, contentType, wantType)
		}
	}

	checkSignatures(t, ls, c, w)
}

// checkList asserts on the list at the top of c and returns the digest of
// its entry for this machine's platform.
func checkList(t *testing.T, c e2e.Layout, w layoutWant, top []byte) string {
	t.Helper()
	native := e2e.Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
	if e2e.NativePlatform() != native || e2e.OtherPlatform() == native {
		t.Fatalf("NativePlatform %+v OtherPlatform %+v, want %+v and another", e2e.NativePlatform(), e2e.OtherPlatform(), native)
	}
	list := e2e.ParseManifest(t, top)
	if list.MediaType != w.top || list.SchemaVersion != 2 || len(list.Manifests) != len(c.Image.Instances) {
		t.Fatalf("list: mediaType %q schemaVersion %d, %d entries for %d instances", list.MediaType, list.SchemaVersion, len(list.Manifests), len(c.Image.Instances))
	}
	instanceType := e2e.MediaTypeOCIManifest
	if w.top == e2e.MediaTypeDockerManifestList {
		instanceType = e2e.MediaTypeDockerManifest
	}
	var platforms []e2e.Platform
	var nativeDigest string
	for i, entry := range list.Manifests {
		inst := c.Image.Instances[i]
		if entry.Platform == nil || *entry.Platform != inst.Platform || entry.Digest != inst.Digest || entry.MediaType != instanceType {
			t.Errorf("entry %d = %+v (platform %+v), want a %s %s for %+v", i, entry, entry.Platform, instanceType, inst.Digest, inst.Platform)
			continue
		}
		platforms = append(platforms, *entry.Platform)
		body, contentType := e2e.GetManifest(t, c.Repository, entry.Digest)
		if contentType != instanceType || !bytes.Equal(body, inst.Manifest) || int64(len(body)) != entry.Size {
			t.Errorf("entry %d: registry has %s (%s), pushed %s", i, body, contentType, inst.Manifest)
		}
		m := e2e.ParseManifest(t, body)
		if *entry.Platform == native {
			nativeDigest = entry.Digest
		}
		if w.buildx && i == 1 {
			checkAttestation(t, c, entry, m, list.Manifests[0].Digest)
			continue
		}
		if entry.Annotations != nil {
			t.Errorf("entry %d has annotations %v", i, entry.Annotations)
		}
		// The image's config says the platform the list says.
		var config e2e.Platform
		if err := json.Unmarshal(e2e.GetBlob(t, c.Repository, m.Config.Digest), &config); err != nil {
			t.Fatal(err)
		}
		if config != *entry.Platform || len(m.Layers) != 1 {
			t.Errorf("entry %d: config platform %+v, %d layers; want %+v, 1", i, config, len(m.Layers), *entry.Platform)
		}
	}
	want := []e2e.Platform{e2e.OtherPlatform(), native}
	if w.buildx {
		want = []e2e.Platform{native, {OS: "unknown", Architecture: "unknown"}}
	}
	if !slices.Equal(platforms, want) {
		t.Errorf("list platforms %+v, want %+v", platforms, want)
	}
	if nativeDigest == "" {
		t.Fatalf("no entry for %+v", native)
	}
	return nativeDigest
}

// checkAttestation asserts entry is a buildx provenance attestation
// manifest about the image imageDigest.
func checkAttestation(t *testing.T, c e2e.Layout, entry e2e.OCIDescriptor, m e2e.OCIManifest, imageDigest string) {
	t.Helper()
	wantAnnotations := map[string]string{
		e2e.AnnotationReferenceType:   e2e.ReferenceTypeAttestation,
		e2e.AnnotationReferenceDigest: imageDigest,
	}
	if !maps.Equal(entry.Annotations, wantAnnotations) {
		t.Errorf("attestation entry annotations %v, want %v", entry.Annotations, wantAnnotations)
	}
	if m.Config == nil || m.Config.MediaType != e2e.MediaTypeOCIConfig || len(m.Layers) != 1 ||
		m.Layers[0].MediaType != e2e.MediaTypeInToto ||
		m.Layers[0].Annotations[e2e.AnnotationPredicateType] != e2e.PredicateSLSAProvenance02 {
		t.Fatalf("attestation manifest %+v, want one %s layer with predicate type %s", m, e2e.MediaTypeInToto, e2e.PredicateSLSAProvenance02)
	}
	var statement struct {
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(e2e.GetBlob(t, c.Repository, m.Layers[0].Digest), &statement); err != nil {
		t.Fatal(err)
	}
	if statement.PredicateType != e2e.PredicateSLSAProvenance02 || len(statement.Subject) != 1 ||
		"sha256:"+statement.Subject[0].Digest["sha256"] != imageDigest {
		t.Errorf("attestation statement %+v, want provenance of %s", statement, imageDigest)
	}
}

// checkSignatures asserts which digests of c's repository carry a
// signature, in which layout, by which key, over which payload.
func checkSignatures(t *testing.T, ls e2e.Layouts, c e2e.Layout, w layoutWant) {
	t.Helper()
	var instances []string
	for _, inst := range c.Image.Instances {
		instances = append(instances, inst.Digest)
	}
	var want []string
	switch w.signed {
	case signedTop:
		want = []string{c.Image.Digest}
	case signedInstances:
		want = instances
	case signedAll:
		want = append([]string{c.Image.Digest}, instances...)
	}
	if !slices.Equal(slices.Sorted(slices.Values(c.Signed)), slices.Sorted(slices.Values(want))) {
		t.Errorf("Signed = %q, want %q", c.Signed, want)
	}

	// Every tag but "1" is a signature tag for one of want.
	var sigTags, referrersTags []string
	for _, tag := range e2e.Tags(t, c.Repository) {
		switch {
		case tag == "1":
		case strings.HasSuffix(tag, ".sig"):
			sigTags = append(sigTags, tag)
		case strings.HasPrefix(tag, "sha256-"):
			referrersTags = append(referrersTags, tag)
		default:
			t.Errorf("unexpected tag %q", tag)
		}
	}
	var wantSig, wantReferrers []string
	for _, d := range want {
		if w.bundle {
			wantReferrers = append(wantReferrers, e2e.FallbackTag(d))
		} else {
			wantSig = append(wantSig, e2e.SigTag(d))
		}
	}
	slices.Sort(wantSig)
	slices.Sort(wantReferrers)
	if !slices.Equal(sigTags, wantSig) || !slices.Equal(referrersTags, wantReferrers) {
		t.Errorf(".sig tags %q, referrers tags %q; want %q, %q", sigTags, referrersTags, wantSig, wantReferrers)
	}

	key := ls.Key
	if w.otherKey {
		key = ls.OtherKey
	}
	if w.signed != signedNone && c.SignedBy != key {
		t.Errorf("SignedBy = %+v, want %+v", c.SignedBy, key)
	}
	for _, d := range want {
		if w.bundle {
			body, mediaType := e2e.GetManifest(t, c.Repository, d)
			bundle := bundleReferrer(t, c.Repository, e2e.OCIDescriptor{MediaType: mediaType, Digest: d, Size: int64(len(body))})
			checkKeyBundle(t, bundle, key, d)
			continue
		}
		layer, payload := legacySignature(t, c.Repository, d)
		if want := e2e.SimpleSigningPayload(c.Repository, d); !bytes.Equal(payload, want) {
			t.Errorf("payload of %s:\n%s\nwant:\n%s", d, payload, want)
		}
		sig := layer.Annotations[signatureAnnotation]
		verifyECDSA(t, readFile(t, key.PublicKey), payload, sig)
		if w.otherKey && ecdsaVerifies(t, readFile(t, ls.Key.PublicKey), payload, sig) {
			t.Errorf("the signature of %s verifies with Key, the trusted key", d)
		}
	}
	// And no signature anywhere else: the instances of a list signed at the
	// top have no tag at all (checked above), and the attestation manifest
	// is not signed.
	for _, d := range instances {
		if !slices.Contains(want, d) {
			for _, tag := range []string{e2e.SigTag(d), e2e.FallbackTag(d)} {
				if status := e2e.ManifestStatus(t, c.Repository, tag); status != http.StatusNotFound {
					t.Errorf("unsigned instance %s: tag %s answers %d", d, tag, status)
				}
			}
		}
	}
}

func TestLayoutsPluginPolicy(t *testing.T) {
	// No registry needed: the policy depends only on names and keys.
	ls := e2e.Layouts{
		Registry: "127.0.0.1:5999",
		Key:      e2e.KeyPair{PrivateKey: "/keys/cosign.key", PublicKey: "/keys/cosign.pub"},
	}
	for _, w := range layoutTable {
		repo := ls.Registry + "/layouts/" + strings.ToLower(w.name)
		ls.Cases = append(ls.Cases, e2e.Layout{Name: w.name, Repository: repo, Ref: repo + ":1", Bundle: w.bundle})
	}
	dir := t.TempDir()
	policyPath, registriesD := ls.PluginPolicy(t, dir)

	p, problems := policy.Parse(readFile(t, policyPath))
	if len(problems) != 0 {
		t.Fatalf("policy.json: %v", problems)
	}
	if len(p.Default.Requirements) != 1 || p.Default.Requirements[0].Type != "reject" {
		t.Errorf("default %+v, want reject", p.Default)
	}
	for _, c := range ls.Cases {
		ref, err := docker.ParseReference("//" + c.Ref)
		if err != nil {
			t.Fatal(err)
		}
		scope := p.Lookup(ref)
		if len(scope.Requirements) != 1 || !scope.Requirements[0].IsPlugin() || scope.Requirements[0].Plugin != "sigstore" {
			t.Errorf("%s: scope %s has %+v, want one sigstore plugin requirement", c.Name, scope.Path, scope.Requirements)
			continue
		}
		var config struct {
			KeyPath        string `json:"keyPath"`
			SignedIdentity struct {
				Type string `json:"type"`
			} `json:"signedIdentity"`
		}
		if err := json.Unmarshal(scope.Requirements[0].Config, &config); err != nil {
			t.Fatal(err)
		}
		wantIdentity, wantScope := "matchRepository", ls.Registry
		if c.Bundle {
			wantIdentity, wantScope = "digestOnly", c.Repository
		}
		if scope.Name != wantScope || config.KeyPath != ls.Key.PublicKey || config.SignedIdentity.Type != wantIdentity {
			t.Errorf("%s: scope %q config %s; want scope %q, keyPath %s, signedIdentity %s",
				c.Name, scope.Name, scope.Requirements[0].Config, wantScope, ls.Key.PublicKey, wantIdentity)
		}
	}
	other, err := docker.ParseReference("//127.0.0.2:5999/layouts/x:1")
	if err != nil {
		t.Fatal(err)
	}
	if !p.Lookup(other).IsDefault() {
		t.Errorf("another registry falls under %s, want the default", p.Lookup(other).Path)
	}

	yaml, err := os.ReadFile(registriesD + "/layouts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if want := "docker:\n  " + ls.Registry + ":\n    use-sigstore-attachments: true\n"; string(yaml) != want {
		t.Errorf("registries.d/layouts.yaml = %q, want %q", yaml, want)
	}
}
