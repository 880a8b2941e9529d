package lint

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.podman.io/image/v5/docker/reference"

	"github.com/policy-plugins/sigstore/internal/policy"
)

// policyWarnings are the warnings that belong to the policy rather than to
// one requirement: how requirements combine, and scopes that can never match.
func policyWarnings(p *policy.Policy) []policy.Problem {
	var ws []policy.Problem
	for _, transport := range sortedKeys(p.Transports) {
		if !slices.Contains(knownTransports, transport) {
			ws = append(ws, policy.Problem{Path: policy.TransportPath(transport), Message: fmt.Sprintf(
				"unknown transport %q: no image is looked up under it, so its scopes never apply (known: %s)",
				transport, strings.Join(knownTransports, ", "))})
		}
	}
	usesPlugins := false
	for _, s := range p.Scopes() {
		ws = append(ws, scopeWarnings(s)...)
		for _, r := range s.Requirements {
			usesPlugins = usesPlugins || r.IsPlugin()
		}
		if s.Transport == "docker" && s.Name != "" {
			if msg := dockerScopeNeverMatches(s.Name); msg != "" {
				ws = append(ws, policy.Problem{Path: s.Path, Message: msg})
			}
		}
	}
	ws = append(ws, trustedRootWarnings(p, time.Now())...)
	if usesPlugins && acceptsAnything(p.Default) {
		ws = append(ws, policy.Problem{Path: policy.DefaultPath, Message: "images that match no scope are accepted without any check, " +
			`while other scopes require signatures; consider [{"type": "reject"}] and a scope for each allowed source`})
	}
	return ws
}

// knownTransports are the transport names of containers/image (v5.42, with
// the deprecated atomic and ostree). containers/image accepts any name in
// policy.json, so a misspelled one is silently never used.
var knownTransports = []string{
	"atomic", "containers-storage", "dir", "docker", "docker-archive", "docker-daemon",
	"oci", "oci-archive", "ostree", "sif", "tarball",
}

// scopeWarnings flags requirements that change nothing or everything: every
// requirement of a scope must pass, a list is not a list of alternatives.
func scopeWarnings(s policy.Scope) []policy.Problem {
	var ws []policy.Problem
	if len(s.Requirements) < 2 {
		return nil
	}
	for _, r := range s.Requirements {
		switch r.Type {
		case "insecureAcceptAnything":
			ws = append(ws, policy.Problem{Path: r.Path, Message: "insecureAcceptAnything next to other requirements adds nothing: " +
				"every requirement of a scope must pass, so it does not make the others optional"})
		case "reject":
			ws = append(ws, policy.Problem{Path: r.Path, Message: "reject next to other requirements: this scope rejects every image, whatever the others say"})
		}
	}
	return ws
}

func acceptsAnything(s policy.Scope) bool {
	if len(s.Requirements) == 0 {
		return false
	}
	for _, r := range s.Requirements {
		if r.Type != "insecureAcceptAnything" {
			return false
		}
	}
	return true
}

// dockerScopeNeverMatches explains why a docker scope can match no image, or
// returns "". containers/image matches scopes against fully qualified names
// (docker.io/library/busybox, not busybox), hosts (registry.example.com) and
// wildcards (*.example.com); anything else is silently never chosen.
func dockerScopeNeverMatches(scope string) string {
	if rest, ok := strings.CutPrefix(scope, "*."); ok {
		if rest == "" || strings.ContainsAny(rest, "/*:@") {
			return fmt.Sprintf("scope %q never matches: a wildcard scope is *. followed by a domain, e.g. *.example.com", scope)
		}
		return ""
	}
	if !strings.Contains(scope, "/") && (strings.ContainsAny(scope, ".:") || scope == "localhost") {
		return "" // a registry host
	}
	if _, err := reference.ParseNamed(scope); err == nil {
		return ""
	}
	msg := fmt.Sprintf("scope %q never matches: docker scopes are fully qualified", scope)
	if named, err := reference.ParseNormalizedNamed(scope); err == nil {
		msg += fmt.Sprintf(" (did you mean %q?)", named.String())
	}
	return msg
}

// order ranks a path by document order: its scope, then its requirement
// (-1 for the scope itself and for paths outside any scope).
func order(p *policy.Policy, path string) [2]int {
	for i, s := range p.Scopes() {
		if path == s.Path {
			return [2]int{i, -1}
		}
		if rest, ok := strings.CutPrefix(path, s.Path+"["); ok {
			end := strings.IndexByte(rest, ']')
			if n, err := strconv.Atoi(rest[:max(end, 0)]); err == nil {
				return [2]int{i, n}
			}
			return [2]int{i, -1}
		}
	}
	return [2]int{-1, -1}
}

func compareOrder(a, b [2]int) int {
	if c := cmp.Compare(a[0], b[0]); c != 0 {
		return c
	}
	return cmp.Compare(a[1], b[1])
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
