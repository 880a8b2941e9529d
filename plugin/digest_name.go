package plugin

import (
	"encoding/hex"
	"strings"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

// hashAlgorithmNames are the OCI digest algorithm names of the hash algorithms a
// Sigstore message signature can state.
var hashAlgorithmNames = map[protocommon.HashAlgorithm]string{
	protocommon.HashAlgorithm_SHA2_256: "sha256",
	protocommon.HashAlgorithm_SHA2_384: "sha384",
	protocommon.HashAlgorithm_SHA2_512: "sha512",
}

// describeHashOutput writes a message signature's digest as algorithm:hex with
// the algorithm the bundle states, so that a reason never calls 64 bytes of
// SHA2-512 a sha256 digest. Another algorithm keeps its enum name, lower case.
func describeHashOutput(untrusted *protocommon.HashOutput) string {
	name, ok := hashAlgorithmNames[untrusted.GetAlgorithm()]
	if !ok {
		name = strings.ToLower(untrusted.GetAlgorithm().String())
	}
	return name + ":" + hex.EncodeToString(untrusted.GetDigest())
}
