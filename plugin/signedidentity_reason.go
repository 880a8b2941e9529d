package plugin

import "fmt"

// rejectionReason says why signedRef is not accepted, naming what it was
// compared with: exactReference and exactRepository compare with the configured
// reference or repository and ignore the image's own, so naming the image's
// reference there would send the reader to the wrong place.
func (s signedIdentity) rejectionReason(imageRef *string, signedRef string) string {
	switch s.kind {
	case signedIdentityExactReference:
		return fmt.Sprintf("signature for %s is not the reference %s required by signedIdentity exactReference", signedRef, s.dockerReference)
	case signedIdentityExactRepository:
		return fmt.Sprintf("signature for %s is not in the repository %s required by signedIdentity exactRepository", signedRef, s.dockerRepository)
	}
	image := "(none)"
	if imageRef != nil {
		image = *imageRef
	}
	return fmt.Sprintf("signature for %s is not accepted for %s by signedIdentity %s", signedRef, image, s.kind)
}
