package check

import (
	"context"
	"slices"
	"sync"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/internal/registry"
	"github.com/policy-plugins/sigstore/protocol"
)

// allFormats are the signature formats the protocol defines.
var allFormats = map[string]bool{protocol.FormatSigstoreJSON: true, protocol.FormatSigstoreBundle: true}

// speculation is verify run for every plugin requirement before the plugins'
// metadata says which signature formats they take: with the signatures of
// every format. A plugin's metadata almost always lists them all (this
// plugin's does), and then the request is exactly the one a host sends after
// metadata, so its answer stands; otherwise verify runs again with the right
// request. Nothing is believed before validate-config and metadata have
// answered: the verdict waits for them, as it would without speculation.
type speculation struct {
	sigs    *collected
	wg      sync.WaitGroup
	results []Requirement // by requirement index
}

// speculate starts verify for every plugin requirement with every signature
// in f. It returns nil when f has a registry failure in some format: the
// formats that matter are not known yet, so no request can be built.
func speculate(ctx context.Context, host *protocol.Host, report *Report, top registry.Manifest,
	f *fetched, reqs []policy.Requirement,
) *speculation {
	sigs, err := f.collect(allFormats)
	if err != nil {
		return nil
	}
	s := &speculation{sigs: sigs, results: make([]Requirement, len(reqs))}
	every := pluginInfo{md: &protocol.Metadata{SignatureFormats: sortedFormats(allFormats)}}
	for i, r := range reqs {
		if r.IsPlugin() {
			s.wg.Go(func() { s.results[i] = evaluatePlugin(ctx, host, report, top, sigs, every, r) })
		}
	}
	return s
}

// wait waits for the speculative verifies (nil: there are none).
func (s *speculation) wait() {
	if s != nil {
		s.wg.Wait()
	}
}

// result is requirement i's speculative outcome when its request was the one
// the plugin's metadata asks for: the same signatures (sigs, collected in the
// formats all the scope's plugins take, is all of them) and every one sent
// in a format this plugin takes.
func (s *speculation) result(i int, sigs *collected, info pluginInfo) (Requirement, bool) {
	if s == nil || info.err != nil || len(sigs.found) != len(s.sigs.found) {
		return Requirement{}, false
	}
	for _, f := range sigs.found {
		if f.Skipped == "" && !slices.Contains(info.md.SignatureFormats, f.Format) {
			return Requirement{}, false
		}
	}
	s.wg.Wait()
	return s.results[i], true
}
