package plugin

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// The in-toto statement types a DSSE bundle may carry: v1, and v0.1, which older
// attestations still use, with the same _type, subject, predicateType and
// predicate fields.
var inTotoStatementTypes = []string{"https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1"}

// inTotoStatement is the part of a verified in-toto statement that binds it to
// an image. It is only ever built from a DSSE payload whose signature verified.
type inTotoStatement struct {
	predicateType string
	subjects      []inTotoSubject
}

type inTotoSubject struct {
	name   string
	digest map[string]string
}

// The keys a statement and a subject may hold, by their in-toto JSON names (v1
// ResourceDescriptor for subjects; v0.1 subjects use a subset).
var (
	inTotoStatementKeys = []string{"_type", "subject", "predicateType", "predicate"}
	inTotoSubjectKeys   = []string{"name", "digest", "uri", "content", "downloadLocation", "mediaType", "annotations"}
)

// parseInTotoStatement reads a verified DSSE payload as an in-toto JSON reader
// does: the exact names _type, predicateType and subject, no duplicate keys
// anywhere, and no other key. sigstore-go reads the same bytes with protojson,
// which also takes the protobuf spellings (type, predicate_type) and is not the
// reader the statement's producer wrote for; a statement the two could read
// differently is refused, not interpreted.
func parseInTotoStatement(verifiedPayload []byte) (*inTotoStatement, error) {
	obj, err := strictjson.ParseText(verifiedPayload, "statement")
	if err != nil {
		return nil, err
	}
	statementType, err := obj.RequiredString("_type")
	if err != nil {
		return nil, err
	}
	if !slices.Contains(inTotoStatementTypes, statementType) {
		return nil, fmt.Errorf("statement._type %q is not an in-toto statement type (%s)", statementType, strings.Join(inTotoStatementTypes, ", "))
	}
	out := &inTotoStatement{}
	if out.predicateType, err = obj.RequiredString("predicateType"); err != nil {
		return nil, err
	}
	rawSubjects, err := obj.Required("subject")
	if err != nil {
		return nil, err
	}
	elems, err := strictjson.Array("statement.subject", rawSubjects)
	if err != nil {
		return nil, err
	}
	for i, e := range elems {
		s, err := parseInTotoSubject(strictjson.Path("statement.subject").Index(i), e)
		if err != nil {
			return nil, err
		}
		out.subjects = append(out.subjects, s)
	}
	obj.Raw("predicate") // any value, read by nobody here
	if err := closeOnly(obj, inTotoStatementKeys); err != nil {
		return nil, err
	}
	return out, nil
}

func parseInTotoSubject(path strictjson.Path, raw json.RawMessage) (inTotoSubject, error) {
	obj, err := strictjson.NewObject(path, raw)
	if err != nil {
		return inTotoSubject{}, err
	}
	var s inTotoSubject
	if s.name, _, err = obj.String("name"); err != nil {
		return inTotoSubject{}, err
	}
	rawDigest, err := obj.Required("digest")
	if err != nil {
		return inTotoSubject{}, err
	}
	if s.digest, err = strictjson.StringMap(path.Key("digest"), rawDigest); err != nil {
		return inTotoSubject{}, err
	}
	for _, k := range inTotoSubjectKeys {
		obj.Raw(k) // fields of a resource descriptor that bind nothing here
	}
	if err := obj.Close(); err != nil {
		return inTotoSubject{}, err
	}
	return s, nil
}

// closeOnly claims the keys a statement may hold and reports any other.
func closeOnly(obj *strictjson.Object, keys []string) error {
	for _, k := range keys {
		obj.Raw(k)
	}
	return obj.Close()
}
