// Package registry fetches, for one image in a registry, what `check` needs
// to evaluate a policy: the manifest (an index or one platform's instance),
// cosign's legacy signature attachments (through containers/image, so
// registries.d's use-sigstore-attachments applies exactly as in podman), and
// Sigstore bundles attached as OCI referrers (through go-containerregistry,
// with the referrers tag fallback).
//
// Everything it returns is untrusted: it checks digests and sizes, never
// signatures. An unreachable registry or a missing image is an error, never
// an empty result.
//
// Build with the tag containers_image_openpgp to stay free of cgo.
package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/types"
)

// Options says how to reach registries. The zero value uses TLS and the
// host's containers configuration, like podman without flags.
type Options struct {
	// Insecure allows plain HTTP and skips TLS certificate verification, like
	// podman's --tls-verify=false. Meant for loopback test registries.
	Insecure bool
	// RegistriesDir is the registries.d directory (use-sigstore-attachments,
	// lookaside); empty means containers/image's default,
	// /etc/containers/registries.d.
	RegistriesDir string
	// RegistriesConf is a registries.conf file (mirrors, blocked registries);
	// empty means containers/image's default.
	RegistriesConf string
	// AuthFile is a containers auth.json; empty means containers/image's
	// default search (REGISTRY_AUTH_FILE, ${XDG_RUNTIME_DIR}/containers/auth.json, ...).
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
	if o.Insecure {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	return sys
}

// errPlainHTTP is returned for a plain-HTTP request without Options.Insecure.
var errPlainHTTP = errors.New("refusing plain HTTP to a registry without the insecure option")

// httpsOnly refuses plain-HTTP requests. go-containerregistry falls back to
// HTTP on its own for loopback and RFC 1918 addresses; containers/image does
// not, and the two must agree on what they talk to.
type httpsOnly struct{ next http.RoundTripper }

func (h httpsOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme != "https" {
		return nil, fmt.Errorf("%s: %w", req.URL.Redacted(), errPlainHTTP)
	}
	return h.next.RoundTrip(req)
}

// remoteOptions are the go-containerregistry options for repository repo of
// the image named ref: the same credentials containers/image would use, and
// the same TLS policy.
func (o Options) remoteOptions(sys *types.SystemContext, ref reference.Named) ([]remote.Option, error) {
	creds, err := config.GetCredentialsForRef(sys, ref)
	if err != nil {
		return nil, fmt.Errorf("looking up credentials for %s: %w", reference.Domain(ref), err)
	}
	auth := authn.Anonymous
	if creds != (types.DockerAuthConfig{}) {
		auth = authn.FromConfig(authn.AuthConfig{
			Username:      creds.Username,
			Password:      creds.Password,
			IdentityToken: creds.IdentityToken,
		})
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	var transport http.RoundTripper = base
	if o.Insecure {
		base.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // Options.Insecure asks for it.
	} else {
		transport = httpsOnly{next: base}
	}
	return []remote.Option{
		remote.WithAuth(auth),
		remote.WithTransport(transport),
		remote.WithUserAgent(o.userAgent()),
	}, nil
}

// nameOptions are the go-containerregistry name options matching o.
func (o Options) nameOptions() []name.Option {
	opts := []name.Option{name.StrictValidation}
	if o.Insecure {
		opts = append(opts, name.Insecure)
	}
	return opts
}
