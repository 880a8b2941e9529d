// Command sigstorego links sigstore-go's verifier and exits: the start-up
// every process that verifies with sigstore-go v1 pays.
package main

import _ "github.com/sigstore/sigstore-go/pkg/verify"

func main() {}
