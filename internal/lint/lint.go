package lint

import (
	"context"
	"slices"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/protocol"
)

// Severity of a Finding.
type Severity string

// Severities.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Finding is one error or warning at a JSON path of policy.json, e.g.
// transports.docker["registry.example.com/team"][0].config.identities[0].subjectRegexp.
type Finding struct {
	Severity Severity `json:"severity"`
	Path     string   `json:"path"`
	Message  string   `json:"message"`
}

func (f Finding) String() string {
	if f.Path == "" {
		return string(f.Severity) + ": " + f.Message
	}
	return string(f.Severity) + ": " + f.Path + ": " + f.Message
}

// Lint checks the policy document data. Plugin requirements are validated by
// running each plugin's validate-config through host. Findings come in
// document order: the default scope, then transports and scopes in sorted
// order, as internal/policy reads them.
func Lint(ctx context.Context, data []byte, host *protocol.Host) []Finding {
	p, errs := policy.Parse(data)
	var findings []Finding
	for _, e := range errs {
		findings = append(findings, Finding{Severity: Error, Path: e.Path, Message: e.Message})
	}
	if p == nil {
		return findings
	}
	for _, w := range policyWarnings(p) {
		findings = append(findings, Finding{Severity: Warning, Path: w.Path, Message: w.Message})
	}
	for _, s := range p.Scopes() {
		for _, r := range s.Requirements {
			if r.IsPlugin() {
				findings = append(findings, validatePlugin(ctx, host, r)...)
			}
		}
	}
	// Document order: everything about one scope together.
	slices.SortStableFunc(findings, func(a, b Finding) int { return compareOrder(order(p, a.Path), order(p, b.Path)) })
	return findings
}

// validatePlugin runs validate-config for one plugin requirement and places
// the plugin's problems under the requirement's path.
func validatePlugin(ctx context.Context, host *protocol.Host, r policy.Requirement) []Finding {
	resp, err := host.ValidateConfig(ctx, r.Plugin, r.Config)
	if err != nil {
		return []Finding{{Severity: Error, Path: r.Path, Message: err.Error()}}
	}
	var findings []Finding
	for _, list := range []struct {
		severity Severity
		problems []protocol.ConfigProblem
	}{{Error, resp.Errors}, {Warning, resp.Warnings}} {
		for _, untrusted := range list.problems {
			findings = append(findings, Finding{
				Severity: list.severity,
				Path:     policy.PluginPath(r.Path, untrusted.Path),
				Message:  protocol.OneLine(untrusted.Message),
			})
		}
	}
	return findings
}
