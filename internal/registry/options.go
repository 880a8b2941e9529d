// Package registry fetches, for one image in a registry, what `check` needs
// to evaluate a policy: the manifest (an index or one platform's instance,
// through containers/image, as podman reads it), cosign's legacy signature
// attachments and Sigstore bundles attached as OCI referrers (through
// go-containerregistry, with the referrers tag fallback, from the place
// containers/image reads the image from, behind the same registries.d
// use-sigstore-attachments as in the patched containers/image of
// upstream/containers-image), within one plugin request's budget
// (protocol.SignatureBudget), so that what a request could not carry is never
// read.
//
// Every connection, containers/image's included (relay.go), fails after
// IdleTimeout without a byte; the caller's context bounds everything else.
//
// Everything it returns is untrusted: it checks digests and sizes, never
// signatures. An unreachable registry or a missing image is an error, never
// an empty result.
//
// Build with the tag containers_image_openpgp to stay free of cgo.
package registry

import "go.podman.io/image/v5/types"

// Options says how to reach registries. The zero value uses TLS and the
// host's containers configuration, like podman without flags.
type Options struct {
	// Insecure allows plain HTTP and skips TLS certificate verification for
	// every registry, like podman's --tls-verify=false. Without it,
	// registries.conf's insecure decides, per registry and mirror.
	Insecure bool
	// VerifyTLS requires HTTPS with verified certificates for every registry,
	// even one registries.conf marks insecure, like podman's explicit
	// --tls-verify=true. Insecure wins when both are set.
	VerifyTLS bool
	// RegistriesDir is the registries.d directory (use-sigstore-attachments,
	// lookaside); empty means containers/image's default,
	// /etc/containers/registries.d.
	RegistriesDir string
	// RegistriesConf is a registries.conf file (insecure, blocked, mirrors,
	// location rewrites), which drives both the manifest and attachment
	// fetches and the referrers lookup; empty means containers/image's default
	// (CONTAINERS_REGISTRIES_CONF, /etc/containers/registries.conf and its
	// drop-ins).
	RegistriesConf string
	// AuthFile is a containers auth.json; empty means containers/image's
	// default search (${XDG_RUNTIME_DIR}/containers/auth.json,
	// $HOME/.docker/config.json, ...). containers/image itself does not read
	// REGISTRY_AUTH_FILE: commands set AuthFile from it, as podman does.
	AuthFile string
	// UserAgent is sent to registries; empty means "containers-policy-sigstore".
	UserAgent string
}

func (o Options) userAgent() string {
	if o.UserAgent != "" {
		return o.UserAgent
	}
	return "containers-policy-sigstore"
}

// systemContext is the containers/image configuration for o.
func (o Options) systemContext() *types.SystemContext {
	sys := &types.SystemContext{
		RegistriesDirPath:        o.RegistriesDir,
		SystemRegistriesConfPath: o.RegistriesConf,
		AuthFilePath:             o.AuthFile,
		DockerRegistryUserAgent:  o.userAgent(),
	}
	switch {
	case o.Insecure:
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	case o.VerifyTLS:
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolFalse
	}
	return sys
}
