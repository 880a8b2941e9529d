package check

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/protocol"
)

// validation is validate-config over the whole policy, as the patched
// containers/image runs it when podman loads the policy (NewPolicyContext,
// validatePluginRequirements in patch 0001): once per distinct plugin and
// config (the config's exact bytes), in the policy's order (the default,
// then the transports and their scopes, sorted), the first problem in that
// order failing the whole policy, so that podman then refuses every image,
// whichever scope the broken config is in. The processes run at once, while
// the registry is asked for the image; their answers are read in order.
type validation struct {
	reqs    []policy.Requirement // the first requirement of each distinct pair, in order
	answers []validateAnswer     // by index into reqs
	running sync.WaitGroup
}

type validateAnswer struct {
	resp *protocol.ValidateConfigResponse
	err  error
}

// toValidate lists the plugin requirements of p that containers/image
// validates: the first of each distinct (plugin, config) pair, in order.
func toValidate(p *policy.Policy) []policy.Requirement {
	var list []policy.Requirement
	seen := map[string]bool{}
	for _, s := range p.Scopes() {
		for _, r := range s.Requirements {
			if !r.IsPlugin() {
				continue
			}
			key := r.Plugin + "\x00" + string(r.Config)
			if seen[key] {
				continue
			}
			seen[key] = true
			list = append(list, r)
		}
	}
	return list
}

func startValidation(ctx context.Context, host *protocol.Host, p *policy.Policy) *validation {
	v := &validation{reqs: toValidate(p)}
	v.answers = make([]validateAnswer, len(v.reqs))
	for i, r := range v.reqs {
		v.running.Go(func() {
			resp, err := host.ValidateConfig(ctx, r.Plugin, r.Config)
			v.answers[i] = validateAnswer{resp: resp, err: err}
		})
	}
	return v
}

// wait waits for every validate-config and returns their warnings, each at
// its policy path, or the first error in the policy's order as a SetupError.
// It may be called more than once.
func (v *validation) wait() ([]Problem, error) {
	v.running.Wait()
	warnings := []Problem{}
	for i, r := range v.reqs {
		w, err := configProblems(r, v.answers[i].resp, v.answers[i].err)
		if err != nil {
			return nil, err
		}
		warnings = append(warnings, w...)
	}
	return warnings, nil
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
