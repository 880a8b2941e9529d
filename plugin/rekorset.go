package plugin

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// untrustedRekorSET is the dev.sigstore.cosign/bundle annotation: a Rekor signed
// entry timestamp and the entry it signs. Nothing in it is trusted until
// sigstore-go verifies the SET against a trusted log key.
type untrustedRekorSET struct {
	signedEntryTimestamp []byte
	body                 []byte
	integratedTime       int64
	logIndex             int64
	logID                []byte
}

// parseUntrustedRekorSET reads the annotation with exactly the fields cosign writes:
// {"SignedEntryTimestamp":"<b64>","Payload":{"body":"<b64>","integratedTime":N,
// "logIndex":N,"logID":"<hex>"}}.
func parseUntrustedRekorSET(untrusted []byte) (*untrustedRekorSET, error) {
	top, err := parseExactFields("SET", untrusted, "SignedEntryTimestamp", "Payload")
	if err != nil {
		return nil, err
	}
	set := &untrustedRekorSET{}
	if set.signedEntryTimestamp, err = strictjson.Base64("SET.SignedEntryTimestamp", top["SignedEntryTimestamp"]); err != nil {
		return nil, err
	}
	payload, err := exactFields("SET.Payload", top["Payload"], "body", "integratedTime", "logIndex", "logID")
	if err != nil {
		return nil, err
	}
	if set.body, err = strictjson.Base64("SET.Payload.body", payload["body"]); err != nil {
		return nil, err
	}
	if set.integratedTime, err = jsonInt64("SET.Payload.integratedTime", payload["integratedTime"]); err != nil {
		return nil, err
	}
	if set.logIndex, err = jsonInt64("SET.Payload.logIndex", payload["logIndex"]); err != nil {
		return nil, err
	}
	logID, err := strictjson.String("SET.Payload.logID", payload["logID"])
	if err != nil {
		return nil, err
	}
	if set.logID, err = hex.DecodeString(logID); err != nil || len(set.logID) == 0 {
		return nil, fmt.Errorf("SET.Payload.logID: not a hex log ID")
	}
	return set, nil
}

func jsonInt64(path strictjson.Path, raw json.RawMessage) (int64, error) {
	var n int64
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, &strictjson.Error{Path: path, Message: "must be an integer"}
	}
	if n < 0 {
		return 0, &strictjson.Error{Path: path, Message: "must not be negative"}
	}
	return n, nil
}

// logEntry is the SET as a bundle's transparency log entry: cosign's legacy
// signatures are always hashedrekord v0.0.1 entries with an inclusion promise.
func (s *untrustedRekorSET) logEntry() *protorekor.TransparencyLogEntry {
	return &protorekor.TransparencyLogEntry{
		LogIndex:          s.logIndex,
		LogId:             &protocommon.LogId{KeyId: s.logID},
		KindVersion:       &protorekor.KindVersion{Kind: "hashedrekord", Version: "0.0.1"},
		IntegratedTime:    s.integratedTime,
		InclusionPromise:  &protorekor.InclusionPromise{SignedEntryTimestamp: s.signedEntryTimestamp},
		CanonicalizedBody: s.body,
	}
}
