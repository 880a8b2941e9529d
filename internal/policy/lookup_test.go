package policy

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"go.podman.io/image/v5/docker"
	"go.podman.io/image/v5/docker/reference"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// onlyReference is an UnparsedImage that has a reference and nothing else;
// insecureAcceptAnything and reject never look further.
type onlyReference struct{ ref types.ImageReference }

func (o onlyReference) Reference() types.ImageReference { return o.ref }
func (onlyReference) Manifest(context.Context) ([]byte, string, error) {
	return nil, "", fmt.Errorf("not used")
}

func (onlyReference) Signatures(context.Context) ([][]byte, error) {
	return nil, fmt.Errorf("not used")
}

func dockerRef(t *testing.T, s string) types.ImageReference {
	t.Helper()
	named, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := docker.NewReference(reference.TagNameOnly(named))
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

// TestLookupChoosesTheScopeContainersImageChooses compares Lookup with
// containers/image itself: for each scope of a policy in turn, that scope
// alone accepts (insecureAcceptAnything) and every other one rejects, so
// containers/image's IsRunningImageAllowed says whether it chose that scope.
func TestLookupChoosesTheScopeContainersImageChooses(t *testing.T) {
	scopes := []string{
		"registry.example.com/team/app:1.4",
		"registry.example.com/team/app",
		"registry.example.com/team",
		"registry.example.com",
		"*.example.com",
		"*.com",
		"docker.io/library/busybox",
		"docker.io",
		"127.0.0.1:5000/team",
		"",
	}
	images := []string{
		"registry.example.com/team/app:1.4",
		"registry.example.com/team/app:1.5",
		"registry.example.com/team/app@sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a",
		"registry.example.com/team/other:1",
		"registry.example.com/elsewhere/x:1",
		"sub.registry.example.com/x:1",
		"other.example.com/x:1",
		"quay.io/x/y:1",
		"busybox",
		"docker.io/library/busybox:1.36",
		"docker.io/other/thing",
		"127.0.0.1:5000/team/app:1",
		"127.0.0.1:5001/team/app:1",
		"localhost/x:1",
	}
	for _, present := range [][]string{scopes, scopes[1:], scopes[2:], scopes[4:], scopes[5:], {"*.example.com", ""}, {}} {
		for _, img := range images {
			ref := dockerRef(t, img)
			p := policyWith(t, present, "")
			got := p.Lookup(ref)
			for _, candidate := range append(present, "(default)") {
				t.Run(fmt.Sprintf("%s with scopes %q: is %q chosen", img, present, candidate), func(t *testing.T) {
					allowed := containersImageAllows(t, present, candidate, ref)
					chosen := got.Path == ScopePath("docker", candidate) || (candidate == "(default)" && got.IsDefault())
					if allowed != chosen {
						t.Errorf("Lookup chose %s; containers/image chose %q: %t", got.Path, candidate, allowed)
					}
				})
			}
		}
	}
}

// policyWith builds a policy with the given docker scopes; scope accept (or
// the default, for "(default)") is insecureAcceptAnything, the rest reject.
func policyJSON(scopes []string, accept string) string {
	req := func(name string) string {
		if name == accept {
			return `[{"type":"insecureAcceptAnything"}]`
		}
		return `[{"type":"reject"}]`
	}
	var b strings.Builder
	b.WriteString(`{"default":` + req("(default)") + `,"transports":{"docker":{`)
	for i, s := range scopes {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(strconv.Quote(s) + ":" + req(s))
	}
	b.WriteString("}}}")
	return b.String()
}

func policyWith(t *testing.T, scopes []string, accept string) *Policy {
	t.Helper()
	p, errs := Parse([]byte(policyJSON(scopes, accept)))
	if len(errs) > 0 {
		t.Fatalf("Parse: %v", errs)
	}
	return p
}

func containersImageAllows(t *testing.T, scopes []string, accept string, ref types.ImageReference) bool {
	t.Helper()
	pol, err := signature.NewPolicyFromBytes([]byte(policyJSON(scopes, accept)))
	if err != nil {
		t.Fatal(err)
	}
	pc, err := signature.NewPolicyContext(pol)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Destroy() }()
	allowed, _ := pc.IsRunningImageAllowed(context.Background(), onlyReference{ref})
	return allowed
}
