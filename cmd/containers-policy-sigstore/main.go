// Command containers-policy-sigstore is the command for people and CI
// (/usr/bin/containers-policy-sigstore): check, lint, trusted-root, and the
// protocol commands (verify of a request by hand). Hosts run the plugin binary,
// cmd/containers-policy-sigstore-plugin, and so does check. main only wires the
// process to internal/cli.
package main

import (
	"os"

	"github.com/policy-plugins/sigstore/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
