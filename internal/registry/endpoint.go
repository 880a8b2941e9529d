package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/pkg/docker/config"
	"go.podman.io/image/v5/pkg/sysregistriesv2"
	"go.podman.io/image/v5/pkg/tlsclientconfig"
	"go.podman.io/image/v5/types"
)

// containers/image has no referrers client and its registry client is
// internal, so referrers are read with go-containerregistry. Nothing of that
// client's own configuration is used: every setting comes from containers/image's
// registries.conf (sysregistriesv2) and auth.json (pkg/docker/config) lookups
// for the same SystemContext, applied as containers/image's docker transport
// applies them to each place it pulls from:
//
//   - the places and their order: PullSourcesFromReference (mirrors first,
//     honouring mirror-by-digest-only and pull-from-mirror, the registry's
//     own location last, location rewrites of the prefix);
//   - blocked: a place whose registries.conf entry is blocked is refused;
//   - insecure: the place's endpoint insecure (the registry's, or the
//     mirror's), unless the command says --tls-verify: then TLS certificates
//     are not verified and plain HTTP is tried after HTTPS fails, as
//     containers/image does; otherwise plain HTTP is refused;
//   - credentials: auth.json (and credential helpers) for the place itself,
//     so a mirror never receives the registry's credentials;
//   - namespace-proxy: the "ns" query parameter on every request;
//   - certs.d (containers-certs.d(5)): the place's CA and client certificates.

// endpoint is one place the image's repository can be read from.
type endpoint struct {
	repo     name.Repository
	insecure bool
	auth     authn.Authenticator
	// nsProxy is registries.conf's namespace-proxy for the place, or "".
	nsProxy string
	// certDir is the place's certs.d directory, or "".
	certDir string
}

// candidate is an endpoint, or why containers/image would not use that place.
type candidate struct {
	place    string // the physical reference, for messages
	physical reference.Named
	ep       endpoint
	err      error
}

// pullCandidates lists the places containers/image reads named from, in its
// order, set up as described above.
func pullCandidates(sys *types.SystemContext, named reference.Named) ([]candidate, error) {
	reg, err := sysregistriesv2.FindRegistry(sys, named.Name())
	if err != nil {
		return nil, fmt.Errorf("loading registries configuration: %w", err)
	}
	if reg == nil {
		reg = &sysregistriesv2.Registry{Endpoint: sysregistriesv2.Endpoint{Location: named.Name()}, Prefix: named.Name()}
	}
	sources, err := reg.PullSourcesFromReference(named)
	if err != nil {
		return nil, err
	}
	candidates := make([]candidate, 0, len(sources))
	for _, src := range sources {
		c := candidate{place: src.Reference.String(), physical: src.Reference}
		c.ep, c.err = newEndpoint(sys, src)
		candidates = append(candidates, c)
	}
	return candidates, nil
}

func newEndpoint(sys *types.SystemContext, src sysregistriesv2.PullSource) (endpoint, error) {
	physical := src.Reference
	// The place's own entry decides whether it is blocked, as for
	// containers/image's client of that place.
	own, err := sysregistriesv2.FindRegistry(sys, physical.Name())
	if err != nil {
		return endpoint{}, fmt.Errorf("loading registries configuration: %w", err)
	}
	if own != nil && own.Blocked {
		return endpoint{}, fmt.Errorf("registry %s is blocked in one of %s", own.Prefix, sysregistriesv2.ConfigurationSourceDescription(sys))
	}
	insecure := src.Endpoint.Insecure
	if sys.DockerInsecureSkipTLSVerify != types.OptionalBoolUndefined {
		insecure = sys.DockerInsecureSkipTLSVerify == types.OptionalBoolTrue
	}
	nameOpts := []name.Option{name.StrictValidation}
	if insecure {
		nameOpts = append(nameOpts, name.Insecure)
	}
	repo, err := name.NewRepository(reference.Domain(physical)+"/"+reference.Path(physical), nameOpts...)
	if err != nil {
		return endpoint{}, fmt.Errorf("repository of %s: %w", physical.Name(), err)
	}
	creds, err := config.GetCredentialsForRef(sys, physical)
	if err != nil {
		return endpoint{}, fmt.Errorf("looking up credentials for %s: %w", reference.Domain(physical), err)
	}
	auth := authn.Anonymous
	if creds != (types.DockerAuthConfig{}) {
		auth = authn.FromConfig(authn.AuthConfig{
			Username:      creds.Username,
			Password:      creds.Password,
			IdentityToken: creds.IdentityToken,
		})
	}
	certs, err := certDir(sys, reference.Domain(physical))
	if err != nil {
		return endpoint{}, fmt.Errorf("certificates for %s: %w", reference.Domain(physical), err)
	}
	return endpoint{repo: repo, insecure: insecure, auth: auth, nsProxy: src.Endpoint.NamespaceProxy, certDir: certs}, nil
}

// puller is a go-containerregistry client for ep: one HTTP transport (so one
// connection, kept alive) and one ping and token exchange for all of its
// requests.
func (ep endpoint) puller(userAgent string) (*remote.Puller, error) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	base.DialContext = idleDialer((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext, nil)
	if ep.certDir != "" {
		if err := tlsclientconfig.SetupCertificates(ep.certDir, base.TLSClientConfig); err != nil {
			return nil, err
		}
	}
	var rt http.RoundTripper = limitBodies{next: base}
	if ep.insecure {
		base.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // registries.conf or --tls-verify=false asks for it.
	} else {
		rt = httpsOnly{next: rt}
	}
	if ep.nsProxy != "" {
		rt = namespaceProxy{ns: ep.nsProxy, next: rt}
	}
	rt = retrying{next: rt}
	return remote.NewPuller(remote.WithAuth(ep.auth), remote.WithTransport(rt), remote.WithUserAgent(userAgent),
		remote.WithRetryStatusCodes(), remote.WithRetryPredicate(func(error) bool { return false }))
}

// errPlainHTTP is returned for a plain-HTTP request to a place that is not
// insecure.
var errPlainHTTP = errors.New("refusing plain HTTP to a registry that is not insecure (registries.conf) nor --tls-verify=false")

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

// namespaceProxy adds registries.conf's namespace-proxy to every request, as
// containers/image does.
type namespaceProxy struct {
	ns   string
	next http.RoundTripper
}

func (p namespaceProxy) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	q := r.URL.Query()
	q.Set("ns", p.ns)
	r.URL.RawQuery = q.Encode()
	return p.next.RoundTrip(r)
}

// referrersSource is where Bundles reads: a place and its client.
type referrersSource struct {
	place  string
	repo   name.Repository
	puller *remote.Puller
	err    error // why the place cannot be used
	// sigstoreAttachments is registries.d's use-sigstore-attachments for the
	// place: containers/image reads signatures there only when it is set.
	sigstoreAttachments bool
}

// referrersSources are the places referrers of the image can be read from,
// in containers/image's order, each with its client: made once per Image, so
// that all of Bundles' requests to a place share one connection and one ping.
func (img *Image) referrersSources() ([]referrersSource, error) {
	img.sourcesOnce.Do(func() {
		candidates, err := pullCandidates(img.sys, img.ref.DockerReference())
		if err != nil {
			img.sourcesErr = err
			return
		}
		for _, c := range candidates {
			src := referrersSource{place: c.place, repo: c.ep.repo, err: c.err}
			if src.sigstoreAttachments, err = img.registriesD.useSigstoreAttachments(c.physical); err != nil {
				img.sources, img.sourcesErr = nil, fmt.Errorf("registries.d for %s: %w", c.place, err)
				return
			}
			if src.err == nil {
				src.puller, src.err = c.ep.puller(img.opts.userAgent())
			}
			img.sources = append(img.sources, src)
		}
	})
	return img.sources, img.sourcesErr
}

// chooseSource picks the place to read the referrers of manifest d from: the
// only one, or the first that has d, as containers/image reads the image from
// the first place that has it. A place that cannot be used or does not answer
// is skipped, as containers/image skips a failing mirror; when none has d, the
// error names every place.
func chooseSource(ctx context.Context, sources []referrersSource, d string) (*referrersSource, error) {
	var failures []string
	var last error
	for i := range sources {
		src := &sources[i]
		err := src.err
		if err == nil && len(sources) > 1 {
			_, err = src.puller.Head(ctx, src.repo.Digest(d))
		}
		if err == nil {
			return src, nil
		}
		last = err
		failures = append(failures, fmt.Sprintf("[%s: %v]", src.place, err))
	}
	switch len(failures) {
	case 0:
		return nil, errors.New("no place to read referrers from")
	case 1:
		return nil, last
	default:
		return nil, fmt.Errorf("(mirrors also failed: %s): %w", strings.Join(failures[:len(failures)-1], " "), last)
	}
}
