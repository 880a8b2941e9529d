// Package startprobe holds programs that only link a part of the project's
// dependencies, so that hack/bench.sh can time what starting a process costs
// before main runs (the runtime and every linked package's initialisation):
// empty links nothing, sigstorego links sigstore-go's verifier (what any
// plugin that verifies with sigstore-go pays), containersimage links the two
// containers/image packages the plugin uses (docker/reference, manifest),
// check links the check command without the plugin (containers/image's
// registry client and go-containerregistry). None of them is shipped.
package startprobe
