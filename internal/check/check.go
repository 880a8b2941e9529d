package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

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
	// A host validates plugin configs when it loads the policy: a broken
	// config is a policy error, not a rejection of this image.
	if report.Warnings, err = validatePluginConfigs(ctx, host, scope); err != nil {
		return nil, err
	}

	img, err := registry.Open(ctx, imageRef, opts.Registry)
	if err != nil {
		return nil, &SetupError{Err: err}
	}
	defer func() { _ = img.Close() }()
	top, err := img.Manifest(ctx)
	if err != nil {
		return nil, &SetupError{Err: err}
	}
	if report.Manifest, err = describeManifest(top); err != nil {
		return nil, &SetupError{Err: err}
	}

	infos, formats := pluginInfos(ctx, host, scope)
	sigs, err := collectSignatures(ctx, img, top, formats)
	if err != nil {
		return nil, &SetupError{Err: err}
	}
	report.Signatures = sigs.found
	report.SignatureFormats = sortedFormats(formats)
	for _, r := range scope.Requirements {
		if r.IsPlugin() {
			report.Requirements = append(report.Requirements, evaluatePlugin(ctx, host, report, top, sigs, infos[r.Plugin], r))
		} else {
			report.Requirements = append(report.Requirements, evaluateBuiltin(ctx, img, r))
		}
	}
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

// validatePluginConfigs runs validate-config for the scope's plugin
// requirements. Errors, or a plugin that cannot answer, are a SetupError.
func validatePluginConfigs(ctx context.Context, host *protocol.Host, scope policy.Scope) ([]Problem, error) {
	warnings := []Problem{}
	for _, r := range scope.Requirements {
		if !r.IsPlugin() {
			continue
		}
		resp, err := host.ValidateConfig(ctx, r.Plugin, r.Config)
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
		for _, w := range resp.Warnings {
			warnings = append(warnings, Problem{Path: policy.PluginPath(r.Path, w.Path), Message: protocol.OneLine(w.Message)})
		}
	}
	return warnings, nil
}
