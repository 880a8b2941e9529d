package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"go.podman.io/image/v5/image"
)

// runAllowed is what bootc's image proxy (containers-image-proxy) does when it
// opens an image: IsRunningImageAllowed on the unparsed top-level image,
// before it hands out the manifest.
func runAllowed(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("allowed", flag.ContinueOnError)
	var cfg hostConfig
	cfg.register(fs)
	policyPath := fs.String("policy", "", "policy.json `FILE`")
	cmd, err := cfg.open(ctx, fs, args, 1)
	if err != nil {
		return err
	}
	defer cmd.close()
	pc, err := policyContext(*policyPath)
	if err != nil {
		return err
	}
	defer func() { _ = pc.Destroy() }()

	ctx = cmd.ctx
	src, err := cmd.images[0].NewImageSource(ctx, cmd.sys)
	if err != nil {
		return err
	}
	defer func() { _ = src.Close() }()
	allowed, err := pc.IsRunningImageAllowed(ctx, image.UnparsedInstance(src, nil))
	if !allowed || err != nil { // both, as copy.Image does: never accept on an error
		if err == nil {
			err = fmt.Errorf("IsRunningImageAllowed returned false without an error")
		}
		return err
	}
	_, err = fmt.Fprintln(stdout, "allowed")
	return err
}
