package policy

import (
	"strconv"
	"strings"

	"github.com/policy-plugins/sigstore/protocol"
)

// Paths name places in policy.json the way people read them:
//
//	default[0]
//	transports.docker["registry.example.com/team"][0].config.identities[0].subjectRegexp
//
// Scopes are always quoted (they hold dots and slashes); transport names are
// written bare when they are identifiers.

// isIdentifier reports whether s matches \A[A-Za-z_][A-Za-z0-9_]*\z. A loop,
// not a package-level regexp, which every start of the command would compile
// (TestIsIdentifierIsTheRegexp compares the two).
func isIdentifier(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return s != ""
}

// TransportPath is the path of a transport's scopes object.
func TransportPath(transport string) string {
	if isIdentifier(transport) {
		return "transports." + transport
	}
	return "transports[" + strconv.Quote(transport) + "]"
}

// ScopePath is the path of a scope's requirements list.
func ScopePath(transport, scope string) string {
	return TransportPath(transport) + "[" + strconv.Quote(scope) + "]"
}

// DefaultPath is the path of the default requirements list.
const DefaultPath = "default"

func indexPath(list string, i int) string {
	return list + "[" + strconv.Itoa(i) + "]"
}

// PluginPath places a path a plugin reported (config.identities[0], or an
// index like [0]) under the path of the requirement that holds the config,
// on one line: the plugin's text is untrusted. check and lint both print
// plugin problems with it, so they name the same place the same way.
func PluginPath(requirement, untrustedPath string) string {
	p := protocol.OneLine(untrustedPath)
	switch {
	case p == "":
		return requirement
	case strings.HasPrefix(p, "["):
		return requirement + p
	default:
		return requirement + "." + p
	}
}
