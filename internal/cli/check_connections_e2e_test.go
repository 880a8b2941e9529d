package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// What one check costs the registry, recorded by a proxy in front of it. The
// image has a legacy attachment and two bundle referrers: containers/image
// makes one request after its API version check (GET /v2/): the manifest;
// the project's client (go-containerregistry, which says so in its
// User-Agent), which reads the signatures within the request budget, eight
// or nine: the .sig manifest and its layer, the referrers API (and, on a
// registry without it, the referrers tag), then each bundle's manifest and
// layer. Each client checks the API version once, however many signatures
// there are, and keeps its connections: the attachments and the referrers
// are read at once, on two, plus one on a registry without the API
// (go-containerregistry fetches the referrers tag while the API's 404 is
// still open); containers/image closes its version check's response unread,
// so that connection is not reused (its code, not ours): it may use two.
func TestCheckPingsOnceAndReusesConnectionsPerClient(t *testing.T) {
	for _, tt := range []struct {
		name                            string
		registry                        e2e.RegistryOptions
		referrersRequests, referrersMax int
	}{
		{"docker-registry, referrers tag", e2e.RegistryOptions{}, 9, 3},
		{"referrers API", e2e.RegistryOptions{ReferrersAPI: true}, 8, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := newCheckEnv(t, tt.registry)
			env.tlsFromRegistriesConf = true
			key := e2e.GenerateKeyPair(t)
			pushed := e2e.PushImage(t, env.addr+"/team/app:1")
			e2e.SignLegacy(t, key, pushed.DigestRef())
			e2e.SignBundle(t, key, pushed.DigestRef())
			e2e.SignBundle(t, e2e.GenerateKeyPair(t), pushed.DigestRef())

			proxy := e2e.StartCountingProxy(t, env.addr)
			useRegistriesConf(t, fmt.Sprintf("[[registry]]\nlocation = %q\ninsecure = true\n", proxy.Addr))
			through := *env
			through.registriesD = env.writeRegistriesD(t, "docker:\n  "+proxy.Addr+":\n    use-sigstore-attachments: true\n")
			// The signatures name the registry's own address: accept them by digest.
			policy := scopePolicy(t, proxy.Addr+"/team", pluginRequirement(keyConfig(key, "digestOnly")))

			proxy.Reset()
			r := through.check(t, policy, proxy.Addr+"/team/app:1", "json")
			r.want(t, ExitOK, r.stdout, `"verdict": "accepted"`)
			if len(r.only(t).Signatures) != 3 {
				t.Fatalf("signatures %+v, want the attachment and the two bundles", r.only(t).Signatures)
			}
			image, referrers := perClient(t, proxy)
			for _, c := range []clientCost{image, referrers} {
				if c.pings != 1 {
					t.Errorf("%s: %d GET /v2/ in %d requests, want 1", c.name, c.pings, c.requests)
				}
			}
			if referrers.requests != tt.referrersRequests || len(referrers.conns) > tt.referrersMax {
				t.Errorf("referrers client: %d requests on %d connections, want %d on at most %d",
					referrers.requests, len(referrers.conns), tt.referrersRequests, tt.referrersMax)
			}
			if image.requests != 2 || len(image.conns) > 2 {
				t.Errorf("containers/image: %d requests on %d connections, want 2 on at most 2", image.requests, len(image.conns))
			}
		})
	}
}

// clientCost is what one registry client asked of the proxy.
type clientCost struct {
	name            string
	pings, requests int
	conns           map[string]bool
}

// perClient splits what the proxy recorded between containers/image and the
// referrers client, by User-Agent.
func perClient(t *testing.T, proxy *e2e.CountingProxy) (image, referrers clientCost) {
	t.Helper()
	image = clientCost{name: "containers/image", conns: map[string]bool{}}
	referrers = clientCost{name: "referrers client", conns: map[string]bool{}}
	connections, requests := proxy.Recorded()
	var log []string
	for _, req := range requests {
		c := &image
		if strings.Contains(req.UserAgent, "go-containerregistry") {
			c = &referrers
		}
		c.requests++
		c.conns[req.Conn] = true
		if req.IsPing() {
			c.pings++
		}
		log = append(log, req.Conn+" "+req.Method+" "+req.Path+" ("+req.UserAgent+")")
	}
	t.Logf("%d TCP connections accepted (insecure: each client tries TLS first), requests:\n%s", connections, strings.Join(log, "\n"))
	return image, referrers
}
