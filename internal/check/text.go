package check

import "github.com/policy-plugins/sigstore/protocol"

// pluginPath places a plugin's config path (config.identities[0]) under the
// requirement's path.
func pluginPath(requirement, untrustedPath string) string {
	p := protocol.OneLine(untrustedPath)
	if p == "" {
		return requirement
	}
	return requirement + "." + p
}
