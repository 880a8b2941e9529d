package check

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

// Options configure a check.
type Options struct {
	// PolicyPath is the policy.json to evaluate.
	PolicyPath string
	// Registry says how to reach registries (TLS, registries.d, auth).
	Registry registry.Options
	// Host runs plugins; nil means protocol.NewHost().
	Host *protocol.Host
	// Platform chooses what of a multi-platform image is evaluated
	// (ParsePlatform): the zero value, this machine's instance.
	Platform Platform
	// Lint runs validate-config on every plugin config of the policy and
	// reports what it finds as warnings, without changing the verdict.
	Lint bool
}

// SetupError is a failure that is not a verdict: the policy cannot be used,
// the image cannot be named or fetched, the registry cannot be reached.
type SetupError struct{ Err error }

func (e *SetupError) Error() string { return e.Err.Error() }
func (e *SetupError) Unwrap() error { return e.Err }

func setupErrorf(format string, args ...any) error {
	return &SetupError{Err: fmt.Errorf(format, args...)}
}

// Check evaluates the policy at opts.PolicyPath for imageRef, a docker
// reference (registry.example.com/team/app:1.4, with or without docker://),
// as podman pull evaluates it: a single manifest itself; for a manifest list
// or image index, the instance chosen for opts.Platform with
// containers/image's rules, its plugins sent the index and the index's
// signatures too (an index signature counts for the instances it lists);
// with Platform.All, every instance, as skopeo copy --all does. A *SetupError
// means there is no verdict; otherwise the report's Accepted is the verdict.
func Check(ctx context.Context, imageRef string, opts Options) (*Report, error) {
	host := opts.Host
	if host == nil {
		host = protocol.NewHost()
	}
	p, err := readPolicy(opts.PolicyPath)
	if err != nil {
		return nil, err
	}
	ref, err := registry.ParseReference(imageRef)
	if err != nil {
		return nil, &SetupError{Err: err}
	}
	scope := p.Lookup(ref)
	report := &Report{
		Image:            imageRef,
		DockerReference:  ref.DockerReference().String(),
		Policy:           opts.PolicyPath,
		Scope:            Scope{Path: scope.Path, Transport: scope.Transport, Name: scope.Name},
		Platform:         opts.Platform.String(),
		SignatureFormats: []string{},
		IndexSignatures:  []FoundSignature{},
		Warnings:         []Problem{},
		Images:           []Evaluated{},
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var linting *validation
	if opts.Lint {
		linting = startValidation(ctx, host, p)
	}
	// The plugin processes and the registry round trips run at once, because
	// a plugin process start costs more than the round trips to a near
	// registry: where one manifest is evaluated (all but --platform all),
	// each plugin requirement's verify starts now (it waits for its request
	// on stdin, protocol.Host.VerifyGathered), the manifests and the
	// signatures are fetched meanwhile and handed to every verify.
	var evals []*evaluation
	if !opts.Platform.All {
		evals = append(evals, startEvaluation(ctx, host, report.DockerReference, scope.Requirements))
	}
	fail := func(err error) (*Report, error) {
		failAll(evals, err)
		if linting != nil {
			linting.running.Wait()
		}
		return nil, err
	}
	img, untrustedTop, err := openImage(ctx, imageRef, opts.Registry)
	if err != nil {
		return fail(&SetupError{Err: err})
	}
	defer func() { _ = img.Close() }()
	if report.Manifest, err = describeManifest(untrustedTop); err != nil {
		return fail(&SetupError{Err: err})
	}
	c := &checker{
		host: host, img: img, report: report, reqs: scope.Requirements,
		plugins: slices.ContainsFunc(scope.Requirements, policy.Requirement.IsPlugin),
		all:     opts.Platform.All,
	}
	if untrustedTop.IsIndex() {
		c.untrustedIndex = &untrustedTop
	}
	if opts.Platform.All {
		err = c.evaluateAll(ctx, untrustedTop)
	} else {
		var untrustedTarget registry.Manifest
		if untrustedTarget, err = chooseTarget(ctx, img, untrustedTop, opts.Platform); err != nil {
			return fail(&SetupError{Err: err})
		}
		err = c.evaluate(ctx, evals, []registry.Manifest{untrustedTarget})
	}
	if err != nil {
		if linting != nil {
			linting.running.Wait()
		}
		return nil, err
	}
	if linting != nil {
		report.Warnings = linting.wait()
	}
	report.Accepted = true
	for _, im := range report.Images {
		report.Accepted = report.Accepted && im.Accepted
	}
	report.Verdict = verdict(report.Accepted)
	return report, nil
}

func verdict(accepted bool) string {
	if accepted {
		return VerdictAccepted
	}
	return VerdictRejected
}

// evaluated is the outcome for manifest m: accepted when it has
// requirements and each accepted.
func evaluated(m registry.Manifest, index *registry.Manifest, sigs *collected, reqs []Requirement) Evaluated {
	out := Evaluated{Digest: m.Digest.String(), MediaType: m.MIMEType, Signatures: []FoundSignature{}, Requirements: reqs}
	if sigs != nil {
		out.Signatures, out.SignaturesLeftOut, out.ReferrersIndexLeftOut = sigs.found, sigs.leftOut, sigs.indexLeftOut
	}
	if index != nil {
		out.Index = index.Digest.String()
		out.Platform = instancePlatform(*index, m.Digest)
	}
	out.Accepted = len(reqs) > 0
	for _, r := range reqs {
		out.Accepted = out.Accepted && r.Outcome == OutcomeAccepted
	}
	out.Verdict = verdict(out.Accepted)
	return out
}

func reportSignatures(p *pendingImage) *collected {
	if p.data == nil {
		return nil
	}
	return p.data.sigs
}

// chooseTarget is the manifest the policy is evaluated on, as copy.Image
// with CopySystemImage chooses it: a single manifest itself (also an
// instance named by its digest: nothing links it to an index); for a list,
// the instance manifest.List.ChooseInstance picks for platform (copy's
// ChooseInstanceByCompression without PreferGzipInstances, which decides
// alike), no match being an error as for podman.
func chooseTarget(ctx context.Context, img *registry.Image, untrustedTop registry.Manifest, platform Platform) (registry.Manifest, error) {
	if !untrustedTop.IsIndex() {
		return untrustedTop, nil
	}
	m, err := img.Instance(ctx, untrustedTop, registry.Platform{OS: platform.OS, Architecture: platform.Architecture, Variant: platform.Variant})
	if err != nil {
		return registry.Manifest{}, fmt.Errorf("choosing an image from manifest list %s: %w", img.Reference(), err)
	}
	return m, nil
}

// maxInstancesAtOnce bounds the instances --platform all evaluates at once
// (their manifests, signatures and plugin processes): an index may list
// thousands.
var maxInstancesAtOnce = 4

// checker evaluates the scope's requirements on the images chosen, into
// report.
type checker struct {
	host   *protocol.Host
	img    *registry.Image
	report *Report
	reqs   []policy.Requirement
	// plugins says whether a plugin requirement applies: only then are
	// signatures read.
	plugins bool
	// all: every instance is evaluated (--platform all).
	all bool
	// untrustedIndex is the top-level index the images are chosen from, or
	// nil; index its signatures being read, read once for every image;
	// indexSigs them once read.
	untrustedIndex *registry.Manifest
	index          *pendingIndex
	indexSigs      *collected
}

// evaluateAll evaluates every instance of untrustedTop in index order, each
// digest once, as copy.Image with CopyAllImages copies them (attestation
// manifests included); a single manifest is evaluated itself.
func (c *checker) evaluateAll(ctx context.Context, untrustedTop registry.Manifest) error {
	if !untrustedTop.IsIndex() {
		return c.evaluate(ctx, []*evaluation{startEvaluation(ctx, c.host, c.report.DockerReference, c.reqs)}, []registry.Manifest{untrustedTop})
	}
	list, err := manifest.ListFromBlob(untrustedTop.Bytes, untrustedTop.MIMEType)
	if err != nil {
		return setupErrorf("parsing index %s: %w", untrustedTop.Digest, err)
	}
	var digests []digest.Digest
	for _, d := range list.Instances() {
		if !slices.Contains(digests, d) {
			digests = append(digests, d)
		}
	}
	if len(digests) == 0 {
		return setupErrorf("index %s of %s lists no instance", untrustedTop.Digest, c.img.Reference())
	}
	for chunk := range slices.Chunk(digests, maxInstancesAtOnce) {
		evals := make([]*evaluation, len(chunk))
		for i := range chunk {
			evals[i] = startEvaluation(ctx, c.host, c.report.DockerReference, c.reqs)
		}
		untrustedTargets := make([]registry.Manifest, len(chunk))
		for i, d := range chunk {
			if untrustedTargets[i], err = c.img.InstanceByDigest(ctx, untrustedTop, d); err != nil {
				failAll(evals, err)
				return &SetupError{Err: err}
			}
		}
		if err := c.evaluate(ctx, evals, untrustedTargets); err != nil {
			return err
		}
	}
	return nil
}

// evaluate evaluates the requirements on untrustedTargets, one evaluation
// each (started, their verify waiting for their requests): it reads the
// signatures (the index's too, the first time) and hands them over, runs
// the built-in requirements, and adds each image's outcome to the report.
// The error is a *SetupError: no verdict.
func (c *checker) evaluate(ctx context.Context, evals []*evaluation, untrustedTargets []registry.Manifest) error {
	if c.plugins {
		var (
			sigs  []*collected
			taken [][]bool
			err   error
		)
		if c.untrustedIndex != nil && !c.all {
			// One request about one instance: read only what it carries.
			var instanceSigs *collected
			instanceSigs, c.indexSigs, err = fetchWithIndex(ctx, c.img, untrustedTargets[0], *c.untrustedIndex)
			sigs, taken = []*collected{instanceSigs}, [][]bool{nil}
		} else {
			if c.untrustedIndex != nil && c.index == nil {
				c.index = readIndex(ctx, c.img, *c.untrustedIndex)
			}
			sigs, taken, err = fetchAllSignatures(ctx, c.img, c.untrustedIndex, c.index, untrustedTargets)
			if err == nil && c.index != nil {
				c.indexSigs, err = c.index.wait(ctx)
			}
		}
		if err == nil && c.indexSigs != nil {
			c.report.IndexSignatures = c.indexSigs.found
			c.report.IndexSignaturesLeftOut, c.report.IndexReferrersIndexLeftOut = c.indexSigs.leftOut, c.indexSigs.indexLeftOut
		}
		if err != nil {
			failAll(evals, err)
			return &SetupError{Err: err}
		}
		c.report.SignatureFormats = sigs[0].formats
		for i, e := range evals {
			e.image.set(&imageData{
				untrustedManifest: untrustedTargets[i], sigs: sigs[i],
				untrustedIndex: c.untrustedIndex, indexSigs: c.indexSigs, indexTaken: taken[i],
			})
		}
	}
	var setupErr error
	for i, e := range evals {
		var instance *digest.Digest
		if c.untrustedIndex != nil {
			instance = &untrustedTargets[i].Digest
		}
		reqs, err := e.finish(ctx, c.img, instance)
		if err != nil {
			setupErr = cmp.Or(setupErr, err)
			continue
		}
		c.report.Images = append(c.report.Images, evaluated(untrustedTargets[i], c.untrustedIndex, reportSignatures(e.image), reqs))
	}
	return setupErr
}

// failAll ends evaluations that will get no image, and waits for their
// plugins.
func failAll(evals []*evaluation, err error) {
	for _, e := range evals {
		e.image.fail(err)
	}
	for _, e := range evals {
		e.plugins.Wait()
	}
}

// fetchAllSignatures fetches, at once, the signatures of every target, each
// within the budget of its plugin requests, which covers the signatures of
// the index (when there is one, being read as index) too; taken says, per
// target, which of the index's entries its requests carry.
func fetchAllSignatures(ctx context.Context, img *registry.Image, untrustedIndex *registry.Manifest, index *pendingIndex,
	targets []registry.Manifest,
) ([]*collected, [][]bool, error) {
	var (
		wg    sync.WaitGroup
		sigs  = make([]*collected, len(targets))
		taken = make([][]bool, len(targets))
		errs  = make([]error, len(targets))
	)
	for i, m := range targets {
		wg.Go(func() {
			sigs[i], taken[i], errs[i] = fetchSignatures(ctx, img, m, protocol.SendableBundle, requestBudget(m, untrustedIndex), index)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	return sigs, taken, nil
}

// openImage opens imageRef and reads its top-level manifest.
func openImage(ctx context.Context, imageRef string, opts registry.Options) (*registry.Image, registry.Manifest, error) {
	img, err := registry.Open(ctx, imageRef, opts)
	if err != nil {
		return nil, registry.Manifest{}, err
	}
	top, err := img.Manifest(ctx)
	if err != nil {
		_ = img.Close()
		return nil, registry.Manifest{}, err
	}
	return img, top, nil
}

// evaluation evaluates every requirement of the scope on one manifest, in
// its order: each plugin requirement in its own goroutine, its verify
// started before the image is read, the built-in ones one after another
// (they share the image source).
type evaluation struct {
	reqs    []policy.Requirement
	out     []Requirement // by requirement index
	errs    []error       // by requirement index: INVALID_CONFIG
	image   *pendingImage
	plugins sync.WaitGroup
}

// startEvaluation starts every plugin requirement's verify; their requests
// are made of what the evaluation's image is given.
func startEvaluation(ctx context.Context, host *protocol.Host, dockerReference string, reqs []policy.Requirement) *evaluation {
	e := &evaluation{reqs: reqs, out: make([]Requirement, len(reqs)), errs: make([]error, len(reqs)), image: &pendingImage{ready: make(chan struct{})}}
	for i, r := range e.reqs {
		if r.IsPlugin() {
			e.plugins.Go(func() { e.out[i], e.errs[i] = evaluatePlugin(ctx, host, dockerReference, e.image, r) })
		}
	}
	return e
}

// pendingImage is what verify requests about one manifest are made of, once
// fetched, or why it could not be. The first of set and fail decides.
type pendingImage struct {
	once  sync.Once
	ready chan struct{}
	data  *imageData
	err   error
}

func (p *pendingImage) set(data *imageData) {
	p.once.Do(func() {
		p.data = data
		close(p.ready)
	})
}

func (p *pendingImage) fail(err error) {
	p.once.Do(func() {
		p.err = err
		close(p.ready)
	})
}

// wait returns the image's data, or an error when they could not be had or
// ctx ended first.
func (p *pendingImage) wait(ctx context.Context) (*imageData, error) {
	select {
	case <-p.ready:
		return p.data, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// finish evaluates the built-in requirements on the manifest (instance nil:
// the top level) and waits for the plugins. The error is the first plugin
// requirement's INVALID_CONFIG, in the scope's order.
func (e *evaluation) finish(ctx context.Context, img *registry.Image, instance *digest.Digest) ([]Requirement, error) {
	for i, r := range e.reqs {
		if r.IsPlugin() {
			continue
		}
		unparsed := img.TopLevel()
		if instance != nil {
			unparsed = img.UnparsedInstance(*instance)
		}
		e.out[i] = evaluateBuiltin(ctx, unparsed, r)
	}
	e.plugins.Wait()
	for _, err := range e.errs {
		if err != nil {
			return nil, err
		}
	}
	return e.out, nil
}

// readPolicy reads and parses policy.json; any problem is a SetupError that
// lists every error with its path.
func readPolicy(path string) (*policy.Policy, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &SetupError{Err: err}
	}
	p, errs := policy.Parse(data)
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.String()
		}
		return nil, setupErrorf("policy %s is invalid (run lint for details): %s", path, strings.Join(msgs, "; "))
	}
	return p, nil
}
