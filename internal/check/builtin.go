package check

import (
	"context"

	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"

	"github.com/policy-plugins/sigstore/internal/policy"
	"github.com/policy-plugins/sigstore/protocol"
)

// evaluateBuiltin evaluates one built-in requirement with containers/image:
// a policy made of that requirement alone, on the evaluated image (the
// top-level one, or the instance chosen from the index, as copy.Image
// evaluates it: containers/image never sees the index's signatures). Alone,
// because containers/image stops at the first failure and the report wants
// every requirement's outcome; the verdict is the same, since requirements
// are independent and all must pass.
func evaluateBuiltin(ctx context.Context, unparsed types.UnparsedImage, r policy.Requirement) Requirement {
	out := Requirement{Path: r.Path, Type: r.Type, Outcome: OutcomeRejected}
	pol, err := policy.BuiltinPolicy(r.Raw)
	if err != nil { // internal/policy checked it already
		out.Outcome, out.Reason = OutcomeFailed, "containers/image: "+protocol.OneLine(err.Error())
		return out
	}
	pc, err := signature.NewPolicyContext(pol)
	if err != nil {
		out.Outcome, out.Reason = OutcomeFailed, "containers/image: "+protocol.OneLine(err.Error())
		return out
	}
	defer func() { _ = pc.Destroy() }()
	allowed, err := pc.IsRunningImageAllowed(ctx, unparsed)
	switch {
	case allowed && r.Type == "insecureAcceptAnything":
		out.Outcome, out.Reason = OutcomeAccepted, "accepted without any check (insecureAcceptAnything)"
	case allowed:
		out.Outcome, out.Reason = OutcomeAccepted, "accepted by containers/image"
	case err != nil:
		out.Reason = "containers/image: " + protocol.OneLine(err.Error())
	default:
		out.Reason = "containers/image rejected the image"
	}
	return out
}
