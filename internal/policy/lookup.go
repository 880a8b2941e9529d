package policy

import "go.podman.io/image/v5/types"

// Lookup returns the scope whose requirements apply to ref, exactly as
// containers/image's PolicyContext chooses them (requirementsForImageRef):
// within the transport's scopes, the reference's own identity, then its
// namespaces from the most to the least specific (for docker: repository,
// parent namespaces, host, then *.example.com wildcards), then the
// transport's "" scope; failing all of those, the global default.
func (p *Policy) Lookup(ref types.ImageReference) Scope {
	if scopes, ok := p.Transports[ref.Transport().Name()]; ok {
		if s, ok := scopes[ref.PolicyConfigurationIdentity()]; ok {
			return s
		}
		for _, namespace := range ref.PolicyConfigurationNamespaces() {
			if s, ok := scopes[namespace]; ok {
				return s
			}
		}
		if s, ok := scopes[""]; ok {
			return s
		}
	}
	return p.Default
}
