// Command containers-policy-sigstore is the sigstore policy plugin for
// containers/image (installed as /usr/lib/containers/policy-plugins.d/sigstore) and
// the check and lint tools built on it. main only wires the process to internal/cli.
package main

import (
	"os"

	"github.com/policy-plugins/sigstore/internal/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
