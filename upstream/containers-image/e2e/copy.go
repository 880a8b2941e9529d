package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"go.podman.io/image/v5/copy"
	"go.podman.io/image/v5/manifest"
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/types"
)

// runCopy is `skopeo copy --policy FILE SRC DEST`: copy.Image evaluates the
// policy on the source before it reads anything else of the image.
func runCopy(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	var cfg hostConfig
	cfg.register(fs)
	policyPath := fs.String("policy", "", "policy.json `FILE`")
	removeSignatures := fs.Bool("remove-signatures", false, "do not copy signatures (an OCI layout cannot store them)")
	cmd, err := cfg.open(ctx, fs, args, 2)
	if err != nil {
		return err
	}
	defer cmd.close()
	pc, err := policyContext(*policyPath)
	if err != nil {
		return err
	}
	defer func() { _ = pc.Destroy() }()

	copied, err := copyImage(cmd.ctx, pc, cmd.sys, cmd.images[0], cmd.images[1], *removeSignatures)
	if err != nil {
		return err
	}
	d, err := manifest.Digest(copied)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "copied %s\n", d)
	return err
}

func copyImage(ctx context.Context, pc *signature.PolicyContext, sys *types.SystemContext, src, dest types.ImageReference, removeSignatures bool) ([]byte, error) {
	return copy.Image(ctx, pc, dest, src, &copy.Options{
		SourceCtx:        sys,
		DestinationCtx:   sys,
		RemoveSignatures: removeSignatures,
	})
}
