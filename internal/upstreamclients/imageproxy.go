package upstreamclients

import (
	"context"
	"testing"

	"github.com/policy-plugins/sigstore/internal/imageproxy"
)

// ImageProxy starts `skopeo experimental-image-proxy` of client (Skopeo or
// PristineSkopeo) as bootc starts it, on a socket pair (internal/imageproxy),
// with --policy POLICY, --registries.d DIR, TLS verification off, and the
// isolated environment of the other runners, and calls Initialize: an error
// reply there (a policy.json the client refuses to load) is an
// *imageproxy.RemoteError. t.Cleanup shuts the proxy down and logs its
// standard error. Timeout bounds the start; each call has its own context.
func ImageProxy(t testing.TB, client, policy, registriesD string, opts ...Option) (*imageproxy.Client, error) {
	t.Helper()
	bin := Binary(t, client)
	c := options(opts)
	iso := isolate(t, "")
	args := []string{"--policy", policy, "--tls-verify=false"}
	if registriesD != "" {
		args = append(args, "--registries.d", registriesD)
	}
	cmd := imageproxy.Command(bin, append(args, c.args...)...)
	cmd.Env = append(iso.env, c.env...)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	p, err := imageproxy.Start(ctx, cmd)
	if err != nil {
		t.Logf("upstreamclients: %s %v: %v", client, cmd.Args[1:], err)
		return nil, err
	}
	t.Cleanup(func() {
		err := p.Close()
		t.Logf("upstreamclients: %s %v: protocol %s, exit: %v\nstderr:\n%s", client, cmd.Args[1:], p.Version, err, p.Stderr())
	})
	return p, nil
}
