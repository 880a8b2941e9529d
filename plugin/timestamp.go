package plugin

import (
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// annotationRFC3161 is the layer annotation in which cosign (sign
// --timestamp-server-url) stores an RFC 3161 timestamp over the signature.
const annotationRFC3161 = "dev.sigstore.cosign/rfc3161timestamp"

// parseUntrustedRFC3161 reads the annotation with exactly the field cosign writes:
// {"SignedRFC3161Timestamp":"<base64 of a DER TimeStampResp>"}. The response is
// not looked at here: sigstore-go verifies it against the trusted TSAs, over the
// signature bytes, once it sits in the v0.1 bundle the signature becomes.
func parseUntrustedRFC3161(untrusted []byte) ([]byte, error) {
	fields, err := parseExactFields("timestamp", untrusted, "SignedRFC3161Timestamp")
	if err != nil {
		return nil, err
	}
	ts, err := strictjson.Base64("timestamp.SignedRFC3161Timestamp", fields["SignedRFC3161Timestamp"])
	if err == nil && len(ts) == 0 {
		err = &strictjson.Error{Path: "timestamp.SignedRFC3161Timestamp", Message: "must not be empty"}
	}
	return ts, err
}

// timestampVerificationData puts RFC 3161 timestamps where a bundle carries them;
// nil when there are none.
func timestampVerificationData(untrustedTimestamps [][]byte) *protobundle.TimestampVerificationData {
	if len(untrustedTimestamps) == 0 {
		return nil
	}
	data := &protobundle.TimestampVerificationData{}
	for _, ts := range untrustedTimestamps {
		data.Rfc3161Timestamps = append(data.Rfc3161Timestamps, &protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
	}
	return data
}
