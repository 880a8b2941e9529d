package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The layouts real builders push, with the verdict a policy naming one key
// must get from every client (check, podman pull, skopeo copy, the image
// proxy). See issue 17's table and containers-policy-plugin(5): a signature
// of a list counts for an instance chosen from that list; a pull by instance
// digest has no list, so it needs the instance's own signature.

// Layout is one case of the table, pushed and signed on a registry.
type Layout struct {
	// Name is the Go test name, stable: see LayoutNames.
	Name string
	// Ref is what a client pulls: host:port/repo:tag or host:port/repo@digest.
	Ref string
	// Accept is the verdict every client must give under Layouts.PluginPolicy.
	Accept bool
	// Index is the digest of the top-level list Ref names; "" when Ref names a
	// single manifest (including an instance pulled by its digest: the client
	// then sees no list).
	Index string
	// Instance is the digest of the manifest a client on this machine's
	// platform (NativePlatform) evaluates: the list's entry for that platform,
	// or the single manifest Ref names.
	Instance string
	// Bundle: signed as a cosign v3 bundle (an OCI referrer) rather than a
	// legacy .sig attachment; the policy then needs signedIdentity digestOnly
	// (the bundle names no image), and the client use-sigstore-attachments.
	Bundle bool

	// Repository is Ref's repository (host:port/repo); no other case uses it.
	Repository string
	// Image is what was pushed: the top-level manifest and, for a list, its
	// entries. For the PulledByInstanceDigest cases it is the list the
	// instance was pushed in, although Ref bypasses it.
	Image Image
	// Signed are the digests cosign signed in Repository, in signing order;
	// SignedBy is the key that signed them (Layouts.Key, or another one).
	Signed   []string
	SignedBy KeyPair
}

// Layouts is every Layout, pushed on one registry.
type Layouts struct {
	Registry string  // host:port
	Key      KeyPair // the key the policy trusts
	// OtherKey signed MultiArchIndexSignedOtherKey; no policy names it.
	OtherKey KeyPair
	Cases    []Layout
}

// LayoutNames are the Layout names, in PushLayouts' order (issue 17's table).
var LayoutNames = []string{
	"SingleManifestSigned",
	"BuildxIndexSignedLegacy",
	"MultiArchIndexSignedLegacy",
	"MultiArchIndexSignedBundle",
	"DockerListSigned",
	"MultiArchRecursive",
	"MultiArchInstancesSigned",
	"MultiArchIndexSignedOtherKey",
	"MultiArchUnsigned",
	"IndexSignedPulledByInstanceDigest",
	"InstancesSignedPulledByInstanceDigest",
	"IndexSignedPulledByIndexDigest",
}

// Case returns the Layout named name; an unknown name fails t.
func (l Layouts) Case(t testing.TB, name string) Layout {
	t.Helper()
	for _, c := range l.Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("e2e: no layout %q", name)
	return Layout{}
}

// NativePlatform is the platform a client on this machine pulls: what
// containers/image chooses from a list by default (runtime.GOOS/GOARCH).
func NativePlatform() Platform {
	return Platform{OS: runtime.GOOS, Architecture: runtime.GOARCH}
}

// OtherPlatform is a platform that is not NativePlatform, for the second
// instance of every list.
func OtherPlatform() Platform {
	if runtime.GOARCH == "arm64" {
		return Platform{OS: "linux", Architecture: "amd64"}
	}
	return Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}
}

// layoutPlatforms are the platforms of the multi-arch lists, in list order.
// The native instance is not first, so that a client picking manifests[0]
// instead of choosing by platform evaluates the wrong instance.
func layoutPlatforms() []Platform { return []Platform{OtherPlatform(), NativePlatform()} }

// Docker schema 2 media types (the Docker manifest list layout).
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// Annotations and media types of a buildx provenance attestation manifest,
// as docker buildx (BuildKit) writes them.
const (
	AnnotationReferenceType   = "vnd.docker.reference.type"
	AnnotationReferenceDigest = "vnd.docker.reference.digest"
	ReferenceTypeAttestation  = "attestation-manifest"
	MediaTypeInToto           = "application/vnd.in-toto+json"
	AnnotationPredicateType   = "in-toto.io/predicate-type"
	PredicateSLSAProvenance02 = "https://slsa.dev/provenance/v0.2"
)

// layoutTag is the tag every layout is pushed at.
const layoutTag = "1"

// PushLayouts pushes every layout (LayoutNames) into its own fresh
// repository, addr/layouts/<name in kebab case>, of the registry at addr (a
// StartRegistry registry) with skopeo, and signs it with cosign: legacy .sig
// attachments, except MultiArchIndexSignedBundle (a cosign v3 bundle, in the
// referrers tag, or through the API on a RegistryOptions.ReferrersAPI
// registry). Every list has an instance for NativePlatform and one for
// OtherPlatform; every image's content names its repository, so no two
// layouts share a manifest digest. A second call for the same registry uses
// addr/layouts-2/..., and so on.
//
// It costs about 6-7 s of tool CPU (13 skopeo copies, 15 cosign runs, about
// 0.4 s each): call it once per test and run the cases as subtests. The keys
// are in t's temporary directories, gone when t ends.
func PushLayouts(t testing.TB, addr string) Layouts {
	t.Helper()
	ls := Layouts{Registry: addr}
	namespace := layoutNamespace(t, addr)
	keys := make([]KeyPair, 2)
	inParallel(t, len(keys), func(t testing.TB, i int) { keys[i] = GenerateKeyPair(t) })
	ls.Key, ls.OtherKey = keys[0], keys[1]
	ls.Cases = make([]Layout, len(LayoutNames))
	inParallel(t, len(LayoutNames), func(t testing.TB, i int) { ls.Cases[i] = ls.push(t, namespace, LayoutNames[i]) })
	return ls
}

// takenNamespaces are the namespaces layoutNamespace gave out.
var takenNamespaces = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// layoutNamespace returns addr/layouts, or addr/layouts-N for the first N
// that neither this process gave out nor holds a layout on the registry.
func layoutNamespace(t testing.TB, addr string) string {
	t.Helper()
	takenNamespaces.Lock()
	defer takenNamespaces.Unlock()
	for n := 1; ; n++ {
		namespace := addr + "/layouts"
		if n > 1 {
			namespace = fmt.Sprintf("%s-%d", namespace, n)
		}
		if takenNamespaces.m[namespace] {
			continue
		}
		takenNamespaces.m[namespace] = true
		if ManifestStatus(t, namespace+"/"+kebab(LayoutNames[0]), layoutTag) == http.StatusNotFound {
			return namespace
		}
	}
}

// inParallel runs f(t, 0) ... f(t, n-1), as many at a time as there are
// CPUs: skopeo and cosign are CPU-bound processes (cosign ~0.4 s of CPU for
// each digest it signs, however many one run is given), the layouts
// independent.
// f runs on its own goroutine, where t.Fatal must not be called, so it gets a
// goroutineTB; the failures it records fail t once all have finished.
func inParallel(t testing.TB, n int, f func(t testing.TB, i int)) {
	t.Helper()
	sem := make(chan struct{}, max(2, runtime.NumCPU()))
	var wg sync.WaitGroup
	tbs := make([]*goroutineTB, n)
	for i := range n {
		tbs[i] = &goroutineTB{TB: t}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f(tbs[i], i)
		}()
	}
	wg.Wait()
	var failures []string
	for _, tb := range tbs {
		failures = append(failures, tb.failures...)
	}
	if len(failures) > 0 {
		t.Fatalf("%s", strings.Join(failures, "\n"))
	}
}

// goroutineTB is a testing.TB for a goroutine other than the test's: Error
// and Fatal record the failure (Fatal then ends the goroutine, as FailNow
// does a test's); the rest (Helper, Logf, TempDir, Cleanup) is t's, which
// the testing package allows from any goroutine.
type goroutineTB struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (g *goroutineTB) record(msg string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.failures = append(g.failures, msg)
}

func (g *goroutineTB) Error(args ...any)                 { g.record(fmt.Sprint(args...)) }
func (g *goroutineTB) Errorf(format string, args ...any) { g.record(fmt.Sprintf(format, args...)) }
func (g *goroutineTB) Fail()                             { g.record("failed") }
func (g *goroutineTB) Failed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.failures) > 0
}
func (g *goroutineTB) FailNow()                          { g.Fail(); runtime.Goexit() }
func (g *goroutineTB) Fatal(args ...any)                 { g.Error(args...); runtime.Goexit() }
func (g *goroutineTB) Fatalf(format string, args ...any) { g.Errorf(format, args...); runtime.Goexit() }

// push builds, pushes and signs the layout name.
func (l Layouts) push(t testing.TB, namespace, name string) Layout {
	t.Helper()
	repo := namespace + "/" + kebab(name)
	ref := repo + ":" + layoutTag
	c := Layout{Name: name, Repository: repo, Ref: ref, SignedBy: l.Key}
	sign := func(digests ...string) {
		t.Helper()
		for _, d := range digests {
			if c.Bundle {
				SignBundle(t, c.SignedBy, repo+"@"+d)
			} else {
				SignLegacy(t, c.SignedBy, repo+"@"+d)
			}
			c.Signed = append(c.Signed, d)
		}
	}
	native := func() string {
		t.Helper()
		return c.Image.nativeInstance(t)
	}
	instances := func() []string {
		var ds []string
		for _, inst := range c.Image.Instances {
			ds = append(ds, inst.Digest)
		}
		return ds
	}

	switch name {
	case "SingleManifestSigned":
		c.Image = pushSingle(t, ref, NativePlatform())
		c.Accept, c.Instance = true, c.Image.Digest
		sign(c.Image.Digest)
	case "BuildxIndexSignedLegacy":
		c.Image = pushBuildx(t, ref)
		c.Accept, c.Index, c.Instance = true, c.Image.Digest, native()
		sign(c.Image.Digest)
	case "MultiArchIndexSignedLegacy":
		c.Image = pushMultiArch(t, ref)
		c.Accept, c.Index, c.Instance = true, c.Image.Digest, native()
		sign(c.Image.Digest)
	case "MultiArchIndexSignedBundle":
		c.Image = pushMultiArch(t, ref)
		c.Accept, c.Index, c.Instance, c.Bundle = true, c.Image.Digest, native(), true
		sign(c.Image.Digest)
	case "DockerListSigned":
		c.Image = pushDockerList(t, ref)
		c.Accept, c.Index, c.Instance = true, c.Image.Digest, native()
		sign(c.Image.Digest)
	case "MultiArchRecursive":
		c.Image = pushMultiArch(t, ref)
		c.Accept, c.Index, c.Instance = true, c.Image.Digest, native()
		SignLegacyRecursive(t, c.SignedBy, c.Image.DigestRef())
		c.Signed = append([]string{c.Image.Digest}, instances()...)
	case "MultiArchInstancesSigned":
		c.Image = pushMultiArch(t, ref)
		c.Accept, c.Index, c.Instance = true, c.Image.Digest, native()
		sign(instances()...)
	case "MultiArchIndexSignedOtherKey":
		c.Image = pushMultiArch(t, ref)
		c.Index, c.Instance, c.SignedBy = c.Image.Digest, native(), l.OtherKey
		sign(c.Image.Digest)
	case "MultiArchUnsigned":
		c.Image = pushMultiArch(t, ref)
		c.Index, c.Instance, c.SignedBy = c.Image.Digest, native(), KeyPair{}
	case "IndexSignedPulledByInstanceDigest":
		c.Image = pushMultiArch(t, ref)
		c.Instance = native()
		c.Ref = repo + "@" + c.Instance
		sign(c.Image.Digest)
	case "InstancesSignedPulledByInstanceDigest":
		c.Image = pushMultiArch(t, ref)
		c.Accept, c.Instance = true, native()
		c.Ref = repo + "@" + c.Instance
		sign(instances()...)
	case "IndexSignedPulledByIndexDigest":
		c.Image = pushMultiArch(t, ref)
		c.Accept, c.Index, c.Instance = true, c.Image.Digest, native()
		c.Ref = c.Image.DigestRef()
		sign(c.Image.Digest)
	default:
		t.Fatalf("e2e: PushLayouts has no layout %q", name)
	}
	return c
}

// kebab turns a Go name into a repository path component:
// "MultiArchUnsigned" -> "multi-arch-unsigned".
func kebab(name string) string {
	var b strings.Builder
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// nativeInstance is the digest of img's entry for NativePlatform; none, or
// more than one, fails t.
func (img Image) nativeInstance(t testing.TB) string {
	t.Helper()
	var found []string
	for _, inst := range img.Instances {
		if inst.Platform == NativePlatform() {
			found = append(found, inst.Digest)
		}
	}
	if len(found) != 1 {
		t.Fatalf("e2e: %s has %d instances for %+v, want 1", img.Ref, len(found), NativePlatform())
	}
	return found[0]
}

// pushSingle pushes a one-platform OCI image (no index) to ref.
func pushSingle(t testing.TB, ref string, p Platform) Image {
	t.Helper()
	repo, _ := splitTag(t, ref)
	l := newOCILayout(t)
	desc, manifest := l.image("image "+ref+"\n", p)
	push(t, l.tag(desc), ref)
	return Image{Ref: ref, Repository: repo, Digest: desc.Digest, Manifest: manifest, MIMEType: MediaTypeOCIManifest}
}

// pushMultiArch pushes an OCI index of layoutPlatforms to ref.
func pushMultiArch(t testing.TB, ref string) Image {
	t.Helper()
	return pushOCIIndex(t, ref, layoutPlatforms())
}

func platformString(p Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// pushBuildx pushes what `docker buildx build --push` (BuildKit's default
// provenance, mode=min) pushes for one platform: an OCI index of the image
// and an attestation manifest for platform unknown/unknown, whose one layer
// is an in-toto SLSA provenance statement about the image. Instances has
// both entries, the attestation manifest with Platform unknown/unknown.
func pushBuildx(t testing.TB, ref string) Image {
	t.Helper()
	repo, tag := splitTag(t, ref)
	_, path := splitRepository(t, repo)
	l := newOCILayout(t)
	p := NativePlatform()
	imageDesc, imageManifest := l.image("image "+ref+" for "+platformString(p)+"\n", p)
	imageDesc.Platform = &p

	statement := map[string]any{
		"_type":         "https://in-toto.io/Statement/v0.1",
		"predicateType": PredicateSLSAProvenance02,
		"subject": []any{map[string]any{
			"name":   "pkg:docker/" + path + "@" + tag + "?platform=" + strings.ReplaceAll(platformString(p), "/", "%2F"),
			"digest": map[string]string{"sha256": strings.TrimPrefix(imageDesc.Digest, "sha256:")},
		}},
		"predicate": map[string]any{
			"builder":   map[string]any{"id": ""},
			"buildType": "https://mobyproject.org/buildkit@v1",
			"metadata":  map[string]any{"buildInvocationID": "e2e", "completeness": map[string]any{}, "reproducible": false},
		},
	}
	layerDesc, layer := l.jsonBlob(MediaTypeInToto, statement)
	layerDesc.Annotations = map[string]string{AnnotationPredicateType: PredicateSLSAProvenance02}
	configDesc, _ := l.jsonBlob(MediaTypeOCIConfig, map[string]any{
		"architecture": "unknown",
		"os":           "unknown",
		"config":       map[string]any{},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{Digest(layer)}},
	})
	attDesc, attManifest := l.jsonBlob(MediaTypeOCIManifest, map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeOCIManifest,
		"config":        configDesc,
		"layers":        []descriptor{layerDesc},
	})
	unknown := Platform{OS: "unknown", Architecture: "unknown"}
	attDesc.Platform = &unknown
	attDesc.Annotations = map[string]string{
		AnnotationReferenceDigest: imageDesc.Digest,
		AnnotationReferenceType:   ReferenceTypeAttestation,
	}
	desc, index := l.jsonBlob(MediaTypeOCIIndex, map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeOCIIndex,
		"manifests":     []descriptor{imageDesc, attDesc},
	})
	push(t, l.tag(desc), ref)
	return Image{
		Ref: ref, Repository: repo, Digest: desc.Digest, Manifest: index, MIMEType: MediaTypeOCIIndex,
		Instances: []Instance{
			{Platform: p, Digest: imageDesc.Digest, Manifest: imageManifest},
			{Platform: unknown, Digest: attDesc.Digest, Manifest: attManifest},
		},
	}
}

// pushDockerList pushes a Docker manifest list of schema 2 images for
// layoutPlatforms to ref. skopeo pushes each schema 2 image as is, from a
// dir: layout (an OCI layout only names OCI manifests), to ref's tag in
// turn; skopeo 1.9.3 cannot push a Docker list from an OCI layout, so the
// list itself is PUT through the registry API last, taking the tag over.
func pushDockerList(t testing.TB, ref string) Image {
	t.Helper()
	repo, tag := splitTag(t, ref)
	var instances []Instance
	var descs []descriptor
	for _, p := range layoutPlatforms() {
		dir := newDirLayout(t)
		layer, diffID := tarGz(t, "content.txt", []byte("image "+ref+" for "+platformString(p)+"\n"))
		layerDesc := dir.blob(MediaTypeDockerLayer, layer)
		configDesc := dir.jsonBlob(MediaTypeDockerConfig, map[string]any{
			"architecture": p.Architecture,
			"os":           p.OS,
			"variant":      p.Variant,
			"created":      "2026-01-01T00:00:00Z",
			"config":       map[string]any{"Cmd": []string{"/content.txt"}},
			"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{diffID}},
		})
		manifest := mustJSON(t, map[string]any{
			"schemaVersion": 2,
			"mediaType":     MediaTypeDockerManifest,
			"config":        configDesc,
			"layers":        []descriptor{layerDesc},
		})
		push(t, dir.manifest(manifest), ref)
		desc := descriptor{MediaType: MediaTypeDockerManifest, Digest: Digest(manifest), Size: len(manifest), Platform: &p}
		descs = append(descs, desc)
		instances = append(instances, Instance{Platform: p, Digest: desc.Digest, Manifest: manifest})
	}
	list := mustJSON(t, map[string]any{
		"schemaVersion": 2,
		"mediaType":     MediaTypeDockerManifestList,
		"manifests":     descs,
	})
	d := PutManifest(t, repo, tag, MediaTypeDockerManifestList, list)
	return Image{Ref: ref, Repository: repo, Digest: d, Manifest: list, MIMEType: MediaTypeDockerManifestList, Instances: instances}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// dirLayout writes containers/image's dir: layout (manifest.json, blobs
// named by their hex digest, a version file), which holds any manifest type.
type dirLayout struct {
	t   testing.TB
	dir string
}

func newDirLayout(t testing.TB) dirLayout {
	t.Helper()
	d := dirLayout{t: t, dir: t.TempDir()}
	d.write("version", []byte("Directory Transport Version: 1.1\n"))
	return d
}

func (d dirLayout) write(name string, data []byte) {
	d.t.Helper()
	if err := os.WriteFile(filepath.Join(d.dir, name), data, 0o644); err != nil {
		d.t.Fatal(err)
	}
}

func (d dirLayout) blob(mediaType string, data []byte) descriptor {
	d.t.Helper()
	digest := Digest(data)
	d.write(strings.TrimPrefix(digest, "sha256:"), data)
	return descriptor{MediaType: mediaType, Digest: digest, Size: len(data)}
}

func (d dirLayout) jsonBlob(mediaType string, v any) descriptor {
	d.t.Helper()
	return d.blob(mediaType, mustJSON(d.t, v))
}

// manifest writes manifest.json and returns the dir: reference for skopeo.
func (d dirLayout) manifest(data []byte) string {
	d.t.Helper()
	d.write("manifest.json", data)
	return "dir:" + d.dir
}

// PluginPolicy writes into dir a policy.json and a registries.d directory
// for the cases of l, and returns their paths.
//
// policy.json rejects by default. The registry's scope (host:port) holds one
// sigstore plugin requirement trusting l.Key with signedIdentity
// matchRepository (cosign's legacy payload names the repository). A cosign v3
// bundle names no image, so each Bundle case's repository has its own scope,
// the same requirement with signedIdentity digestOnly: scopes are chosen by
// repository, the most specific one wins, so one file serves every case.
//
// registries.d sets use-sigstore-attachments for the registry: without it
// containers/image reads neither .sig attachments nor referrers.
func (l Layouts) PluginPolicy(t testing.TB, dir string) (policyPath, registriesD string) {
	t.Helper()
	requirement := func(signedIdentity string) []any {
		return []any{map[string]any{
			"type":   "plugin",
			"plugin": "sigstore",
			"config": map[string]any{
				"keyPath":        l.Key.PublicKey,
				"signedIdentity": map[string]any{"type": signedIdentity},
			},
		}}
	}
	scopes := map[string]any{l.Registry: requirement("matchRepository")}
	for _, c := range l.Cases {
		if c.Bundle {
			scopes[c.Repository] = requirement("digestOnly")
		}
	}
	policy, err := json.MarshalIndent(map[string]any{
		"default":    []any{map[string]any{"type": "reject"}},
		"transports": map[string]any{"docker": scopes},
	}, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	policyPath = filepath.Join(dir, "policy.json")
	if err := os.WriteFile(policyPath, append(policy, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	registriesD = filepath.Join(dir, "registries.d")
	if err := os.MkdirAll(registriesD, 0o755); err != nil {
		t.Fatal(err)
	}
	yaml := "docker:\n  " + l.Registry + ":\n    use-sigstore-attachments: true\n"
	if err := os.WriteFile(filepath.Join(registriesD, "layouts.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return policyPath, registriesD
}
