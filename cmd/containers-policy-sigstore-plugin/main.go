// Command containers-policy-sigstore-plugin is the sigstore policy plugin as
// hosts run it: installed as /usr/lib/containers/policy-plugins.d/sigstore, it
// answers metadata, validate-config and verify (containers-policy-plugin(5))
// and nothing else. It links only the plugin and the protocol, so that a
// process a pull starts pays for nothing but verification; check, lint and
// trusted-root live in cmd/containers-policy-sigstore.
package main

import (
	"os"

	"github.com/policy-plugins/sigstore/plugin"
)

func main() {
	os.Exit(plugin.Serve(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
