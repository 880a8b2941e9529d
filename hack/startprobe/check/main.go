// Command check links the check command's package without the plugin and
// exits: the start-up of containers/image's and go-containerregistry's
// registry clients.
package main

import _ "github.com/policy-plugins/sigstore/internal/check"

func main() {}
