package registry

import (
	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/image"
	"go.podman.io/image/v5/types"
)

// TopLevel is the image as containers/image's policy evaluation reads it
// (signature.PolicyContext.IsRunningImageAllowed on the top-level unparsed
// image, as podman pull and skopeo copy do). It reads through the same
// image source as Manifest, which caches the top-level manifest, so policy
// evaluation and Manifest see the same manifest even if the tag moves in
// between.
func (img *Image) TopLevel() types.UnparsedImage {
	return image.UnparsedInstance(img.src, nil)
}

// UnparsedInstance is instance d of the top-level index as containers/image's
// copy evaluates the policy on it (copySingleImage's IsRunningImageAllowed on
// image.UnparsedInstance(rawSource, &instanceDigest)), through the same image
// source as Instance.
func (img *Image) UnparsedInstance(d digest.Digest) types.UnparsedImage {
	return image.UnparsedInstance(img.src, &d)
}
