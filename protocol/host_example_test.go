package protocol_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/policy-plugins/sigstore/protocol"
)

// A host evaluating one {"type": "plugin", ...} requirement of policy.json.
// Nothing is accepted unless Decision.Accepted is true; a *PluginError is a
// rejection too, only reported apart from a reject verdict.
func ExampleHost_Verify() {
	h := protocol.NewHost() // $CONTAINERS_POLICY_PLUGINS_DIR, then /usr/lib/containers/policy-plugins.d
	h.Timeout = 10 * time.Second

	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`)
	ref := "registry.example.com/team/app:1.4"
	d, err := h.Verify(context.Background(), "sigstore", &protocol.VerifyRequest{
		Config:     json.RawMessage(`{"keyPath": "/etc/containers/keys/team.pub"}`),
		Image:      protocol.Image{Transport: "docker", DockerReference: &ref, Manifest: manifest},
		Signatures: []protocol.Signature{}, // from the registry: .sig layers, bundle referrers
	})
	var failed *protocol.PluginError
	switch {
	case errors.As(err, &failed):
		fmt.Println("rejected, the plugin failed:", failed)
	case d.Accepted:
		fmt.Println("accepted:", d.Reason)
	default:
		fmt.Println("rejected:", d.Reason)
	}
}
