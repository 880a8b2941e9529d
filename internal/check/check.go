package check

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

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
// reference (registry.example.com/team/app:1.4, with or without docker://).
// A *SetupError means there is no verdict; otherwise the report's Accepted
// is the verdict.
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
		Image:           imageRef,
		DockerReference: ref.DockerReference().String(),
		Policy:          opts.PolicyPath,
		Scope:           Scope{Path: scope.Path, Transport: scope.Transport, Name: scope.Name},
		Signatures:      []FoundSignature{},
		Warnings:        []Problem{},
		Requirements:    []Requirement{},
	}
	// The plugin processes and the registry round trips run at once, because
	// a plugin process start costs more than the round trips to a near
	// registry: validate-config for the whole policy and each plugin
	// requirement's verify start now (verify waits for its request on stdin,
	// protocol.Host.VerifyGathered), the manifest and the signatures are
	// fetched meanwhile and handed to every verify; the verdict waits for all
	// of them.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	validating := startValidation(ctx, host, p)
	eval := &evaluation{reqs: scope.Requirements, out: make([]Requirement, len(scope.Requirements))}
	image := eval.startPlugins(ctx, host, report.DockerReference)
	// A host validates plugin configs when it loads the policy: a broken
	// config is a policy error, not a rejection of this image, and it is
	// reported before any registry error.
	fail := func(err error) (*Report, error) {
		image.fail(err)
		eval.plugins.Wait()
		if _, verr := validating.wait(); verr != nil {
			err = verr
		}
		return nil, err
	}
	img, top, err := openImage(ctx, imageRef, opts.Registry)
	if err != nil {
		return fail(&SetupError{Err: err})
	}
	defer func() { _ = img.Close() }()
	if report.Manifest, err = describeManifest(top); err != nil {
		return fail(&SetupError{Err: err})
	}
	if eval.anyPlugin() {
		sigs, err := fetchSignatures(ctx, img, top)
		if err != nil {
			return fail(&SetupError{Err: err})
		}
		report.Signatures, report.SignatureFormats, report.SignaturesLeftOut = sigs.found, sigs.formats, sigs.leftOut
		report.ReferrersIndexLeftOut = sigs.indexLeftOut
		image.set(top, sigs)
	}

	if report.Warnings, err = validating.wait(); err != nil {
		cancel()
		eval.plugins.Wait()
		return nil, err
	}
	report.Requirements = eval.finish(ctx, img)
	report.Accepted = len(report.Requirements) > 0
	for _, r := range report.Requirements {
		report.Accepted = report.Accepted && r.Outcome == OutcomeAccepted
	}
	report.Verdict = VerdictRejected
	if report.Accepted {
		report.Verdict = VerdictAccepted
	}
	return report, nil
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

// evaluation evaluates every requirement of the scope, in its order: each
// plugin requirement in its own goroutine, its verify started before the
// image is read, the built-in ones one after another (they share the image
// source) once the policy is known to be valid.
type evaluation struct {
	reqs    []policy.Requirement
	out     []Requirement // by requirement index
	plugins sync.WaitGroup
}

func (e *evaluation) anyPlugin() bool {
	return slices.ContainsFunc(e.reqs, policy.Requirement.IsPlugin)
}

// startPlugins starts every plugin requirement's verify; their requests are
// made of what the returned pendingImage is given.
func (e *evaluation) startPlugins(ctx context.Context, host *protocol.Host, dockerReference string) *pendingImage {
	image := &pendingImage{ready: make(chan struct{})}
	for i, r := range e.reqs {
		if r.IsPlugin() {
			e.plugins.Go(func() { e.out[i] = evaluatePlugin(ctx, host, dockerReference, image, r) })
		}
	}
	return image
}

// pendingImage is the top-level manifest and its signatures once fetched,
// or why they could not be: what every verify request is made of. The
// first of set and fail decides.
type pendingImage struct {
	once  sync.Once
	ready chan struct{}
	top   registry.Manifest
	sigs  *collected
	err   error
}

func (p *pendingImage) set(top registry.Manifest, sigs *collected) {
	p.once.Do(func() {
		p.top, p.sigs = top, sigs
		close(p.ready)
	})
}

func (p *pendingImage) fail(err error) {
	p.once.Do(func() {
		p.err = err
		close(p.ready)
	})
}

// wait returns the manifest and its signatures, or an error when they could
// not be had or ctx ended first.
func (p *pendingImage) wait(ctx context.Context) (registry.Manifest, *collected, error) {
	select {
	case <-p.ready:
		return p.top, p.sigs, p.err
	case <-ctx.Done():
		return registry.Manifest{}, nil, ctx.Err()
	}
}

// finish evaluates the built-in requirements and waits for the plugins.
func (e *evaluation) finish(ctx context.Context, img *registry.Image) []Requirement {
	for i, r := range e.reqs {
		if !r.IsPlugin() {
			e.out[i] = evaluateBuiltin(ctx, img, r)
		}
	}
	e.plugins.Wait()
	return e.out
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
