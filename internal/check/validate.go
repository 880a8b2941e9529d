package check

import (
	"context"
	"errors"
	"sync"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/protocol"
)

// validation is validate-config over the whole policy, for check --lint:
// once per distinct plugin and config (the config's exact bytes), in the
// policy's order (the default, then the transports and their scopes,
// sorted). A host that pulls runs none (containers-policy-plugin(5)): verify
// carries the config, and an invalid one fails exactly the images of its
// scope. So what this finds is a warning, never the verdict nor the exit
// status; the evaluated scope's own configs are judged by its verify. The
// processes run at once, while the image is evaluated.
type validation struct {
	reqs    []policy.Requirement // the first requirement of each distinct pair, in order
	answers []validateAnswer     // by index into reqs
	running sync.WaitGroup
}

type validateAnswer struct {
	resp *protocol.ValidateConfigResponse
	err  error
}

// toValidate lists the plugin requirements of p to validate: the first of
// each distinct (plugin, config) pair, in order.
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

// wait waits for every validate-config and returns what they found, each at
// its policy path, in the policy's order.
func (v *validation) wait() []Problem {
	v.running.Wait()
	problems := []Problem{}
	for i, r := range v.reqs {
		problems = append(problems, configProblems(r, v.answers[i].resp, v.answers[i].err)...)
	}
	return problems
}

// configProblems turns one requirement's validate-config answer into
// warnings: its errors ("invalid plugin config: ..."), its warnings, or why
// the plugin could not answer.
func configProblems(r policy.Requirement, resp *protocol.ValidateConfigResponse, err error) []Problem {
	if err != nil {
		var perr *protocol.PluginError
		if !errors.As(err, &perr) {
			return []Problem{{Path: r.Path, Message: "validate-config: " + protocol.OneLine(err.Error())}}
		}
		return []Problem{{Path: r.Path, Message: protocol.OneLine(perr.Error())}}
	}
	problems := []Problem{}
	for _, e := range resp.Errors {
		problems = append(problems, Problem{Path: policy.PluginPath(r.Path, e.Path), Message: "invalid plugin config: " + protocol.OneLine(e.Message)})
	}
	if !resp.Valid && len(resp.Errors) == 0 {
		problems = append(problems, Problem{Path: r.Path, Message: "invalid plugin config"})
	}
	for _, w := range resp.Warnings {
		problems = append(problems, Problem{Path: policy.PluginPath(r.Path, w.Path), Message: protocol.OneLine(w.Message)})
	}
	return problems
}
