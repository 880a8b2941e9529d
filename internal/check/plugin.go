package check

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

// pluginInfo is a plugin's metadata, or why it could not be had.
type pluginInfo struct {
	md  *protocol.Metadata
	err error
}

// evaluatePlugin runs one plugin requirement: the top-level manifest and the
// signatures in the formats the plugin takes, through the host package, which
// believes only a well-formed answer about this exact manifest.
func evaluatePlugin(ctx context.Context, host *protocol.Host, report *Report, top registry.Manifest,
	sigs *collected, info pluginInfo, r policy.Requirement,
) Requirement {
	out := Requirement{Path: r.Path, Type: r.Type, Plugin: r.Plugin, Signatures: []SignatureResult{}}
	if info.err != nil {
		out.Outcome, out.Reason = OutcomeFailed, info.err.Error()
		return out
	}
	ref := report.DockerReference
	req := &protocol.VerifyRequest{
		Config: r.Config,
		Image: protocol.Image{
			Transport: "docker", DockerReference: &ref,
			Manifest: top.Bytes, ManifestMIMEType: top.MIMEType,
		},
		Signatures: []protocol.Signature{},
	}
	var sent []int // request index -> report index
	notSent := map[int]string{}
	for i, f := range sigs.found {
		switch {
		case f.Skipped != "":
			notSent[i] = f.Skipped
		case !slices.Contains(info.md.SignatureFormats, f.Format):
			notSent[i] = fmt.Sprintf("not sent: plugin %q does not take %s signatures", r.Plugin, f.Format)
		default:
			req.Signatures = append(req.Signatures, sigs.request[i])
			sent = append(sent, i)
		}
	}

	d, err := host.Verify(ctx, r.Plugin, req)
	out.Reason = d.Reason
	switch {
	case err != nil:
		out.Outcome = OutcomeFailed
	case d.Accepted:
		out.Outcome = OutcomeAccepted
	default:
		out.Outcome = OutcomeRejected
	}
	results := map[int]SignatureResult{}
	for i, why := range notSent {
		results[i] = SignatureResult{Signature: i, Reason: why}
	}
	if d.Response != nil {
		// The host checked there is exactly one result per signature sent.
		for k, untrusted := range d.Response.Signatures {
			results[sent[k]] = SignatureResult{Signature: sent[k], Accepted: untrusted.Accepted, Reason: protocol.OneLine(untrusted.Reason)}
		}
		if a := d.Response.Accepted; a != nil {
			out.AcceptedSignature = sanitizeAccepted(*a, sent[a.Signature])
		}
	}
	for i := range sigs.found {
		if r, ok := results[i]; ok {
			out.Signatures = append(out.Signatures, r)
		}
	}
	return out
}

// sanitizeAccepted renumbers the plugin's accepted signature into the
// report's numbering and keeps its texts on one line.
func sanitizeAccepted(untrusted protocol.Accepted, index int) *protocol.Accepted {
	clean := func(s *string) *string {
		if s == nil {
			return nil
		}
		c := protocol.OneLine(*s)
		return &c
	}
	return &protocol.Accepted{
		Signature: index, Format: protocol.OneLine(untrusted.Format),
		Issuer: clean(untrusted.Issuer), Subject: clean(untrusted.Subject), PublicKey: clean(untrusted.PublicKey),
		SignedReference: clean(untrusted.SignedReference), Time: clean(untrusted.Time),
	}
}

// pluginRuns are the plugin processes a check starts before it needs their
// answers, all at once: validate-config for every plugin requirement of the
// scope and metadata once per plugin.
type pluginRuns struct {
	reqs        []policy.Requirement
	validating  sync.WaitGroup
	validations []validation // by requirement index
	describing  sync.WaitGroup
	described   map[string]*pluginInfo
}

type validation struct {
	resp *protocol.ValidateConfigResponse
	err  error
}

func startPlugins(ctx context.Context, host *protocol.Host, scope policy.Scope) *pluginRuns {
	p := &pluginRuns{
		reqs:        scope.Requirements,
		validations: make([]validation, len(scope.Requirements)),
		described:   map[string]*pluginInfo{},
	}
	for i, r := range scope.Requirements {
		if !r.IsPlugin() {
			continue
		}
		p.validating.Go(func() {
			resp, err := host.ValidateConfig(ctx, r.Plugin, r.Config)
			p.validations[i] = validation{resp: resp, err: err}
		})
		if _, started := p.described[r.Plugin]; !started {
			info := &pluginInfo{}
			p.described[r.Plugin] = info
			p.describing.Go(func() { info.md, info.err = host.Metadata(ctx, r.Plugin) })
		}
	}
	return p
}

// any says whether the scope has plugin requirements.
func (p *pluginRuns) any() bool { return len(p.described) > 0 }

// validated waits for validate-config and returns the warnings, or the
// first requirement's error in the scope's order.
func (p *pluginRuns) validated() ([]Problem, error) {
	p.validating.Wait()
	warnings := []Problem{}
	for i, r := range p.reqs {
		if !r.IsPlugin() {
			continue
		}
		w, err := configProblems(r, p.validations[i].resp, p.validations[i].err)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
	}
	return warnings, nil
}

// infos waits for metadata and returns every plugin's, and the union of the
// signature formats they take.
func (p *pluginRuns) infos() (map[string]pluginInfo, map[string]bool) {
	p.describing.Wait()
	infos := map[string]pluginInfo{}
	formats := map[string]bool{}
	for name, info := range p.described {
		infos[name] = *info
		if info.err == nil {
			for _, f := range info.md.SignatureFormats {
				formats[f] = true
			}
		}
	}
	return infos, formats
}
