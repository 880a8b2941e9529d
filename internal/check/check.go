package check

import (
	"context"
	"errors"
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
	// registry: validate-config and metadata start now, the manifest and the
	// signatures are fetched meanwhile, and verify starts as soon as they are
	// here (see speculation.go); the verdict waits for all of them.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	plugins := startPlugins(ctx, host, scope)
	// A host validates plugin configs when it loads the policy: a broken
	// config is a policy error, not a rejection of this image, and it is
	// reported before any registry error.
	fail := func(err error) (*Report, error) {
		if _, verr := plugins.validated(); verr != nil {
			err = verr
		}
		cancel()
		plugins.describing.Wait()
		return nil, err
	}
	o := openImage(ctx, imageRef, opts.Registry)
	if o.err != nil {
		return fail(&SetupError{Err: o.err})
	}
	img, top := o.img, o.top
	defer func() { _ = img.Close() }()
	if report.Manifest, err = describeManifest(top); err != nil {
		return fail(&SetupError{Err: err})
	}
	fetchedSigs := &fetched{m: top}
	var spec *speculation
	if plugins.any() {
		fetchedSigs = fetchSignatures(ctx, img, top, allFormats)
		spec = speculate(ctx, host, report, top, fetchedSigs, scope.Requirements)
	}

	if report.Warnings, err = plugins.validated(); err != nil {
		cancel()
		spec.wait()
		plugins.describing.Wait()
		return nil, err
	}
	infos, formats := plugins.infos()
	sigs, err := fetchedSigs.collect(formats)
	if err != nil {
		spec.wait()
		return nil, &SetupError{Err: err}
	}
	report.Signatures = sigs.found
	report.SignatureFormats = sortedFormats(formats)
	report.Requirements = evaluateRequirements(ctx, host, img, report, top, sigs, infos, scope.Requirements, spec)
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

// openResult is the opened image and its top-level manifest, or why not.
type openResult struct {
	img *registry.Image
	top registry.Manifest
	err error
}

func openImage(ctx context.Context, imageRef string, opts registry.Options) openResult {
	img, err := registry.Open(ctx, imageRef, opts)
	if err != nil {
		return openResult{err: err}
	}
	top, err := img.Manifest(ctx)
	if err != nil {
		_ = img.Close()
		return openResult{err: err}
	}
	return openResult{img: img, top: top}
}

// evaluateRequirements evaluates every requirement, in the scope's order:
// each plugin requirement in its own goroutine (a plugin process each, unless
// its speculative verify stands), the built-in ones one after another (they
// share the image source).
func evaluateRequirements(ctx context.Context, host *protocol.Host, img *registry.Image, report *Report,
	top registry.Manifest, sigs *collected, infos map[string]pluginInfo, reqs []policy.Requirement, spec *speculation,
) []Requirement {
	out := make([]Requirement, len(reqs))
	var wg sync.WaitGroup
	var builtins []int
	for i, r := range reqs {
		if !r.IsPlugin() {
			builtins = append(builtins, i)
			continue
		}
		wg.Go(func() {
			if got, ok := spec.result(i, sigs, infos[r.Plugin]); ok {
				out[i] = got
				return
			}
			out[i] = evaluatePlugin(ctx, host, report, top, sigs, infos[r.Plugin], r)
		})
	}
	for _, i := range builtins {
		out[i] = evaluateBuiltin(ctx, img, reqs[i])
	}
	wg.Wait()
	return out
}

func sortedFormats(formats map[string]bool) []string {
	list := []string{}
	for f := range formats {
		list = append(list, f)
	}
	slices.Sort(list)
	return list
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

// configProblems turns one requirement's validate-config answer into its
// warnings, or a SetupError when the plugin could not answer or the config is
// invalid.
func configProblems(r policy.Requirement, resp *protocol.ValidateConfigResponse, err error) ([]Problem, error) {
	if err != nil {
		var perr *protocol.PluginError
		if errors.As(err, &perr) {
			return nil, setupErrorf("policy %s: %s", r.Path, err)
		}
		return nil, &SetupError{Err: err}
	}
	if !resp.Valid {
		msgs := make([]string, len(resp.Errors))
		for i, e := range resp.Errors {
			msgs[i] = policy.PluginPath(r.Path, e.Path) + ": " + protocol.OneLine(e.Message)
		}
		return nil, setupErrorf("policy: invalid plugin config: %s", strings.Join(msgs, "; "))
	}
	warnings := make([]Problem, 0, len(resp.Warnings))
	for _, w := range resp.Warnings {
		warnings = append(warnings, Problem{Path: policy.PluginPath(r.Path, w.Path), Message: protocol.OneLine(w.Message)})
	}
	return warnings, nil
}
