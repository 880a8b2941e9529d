package plugin

import (
	"errors"
	"fmt"
	"strings"
)

// rejection is why a signature is not accepted: a normal answer, kept apart
// from the errors that make a request fail (protocol.CodedError), as
// containers/image keeps PolicyRequirementError apart from other errors. The
// functions on the decision path return one as their error; reasonOf turns it
// into the signature's reason.
type rejection struct {
	reason string
	// cause is what sigstore-go, crypto/x509 or a parser said, when the
	// reason words it for an operator; errors.As reaches it.
	cause error
}

func (r *rejection) Error() string { return r.reason }

func (r *rejection) Unwrap() error { return r.cause }

// rejectf is a rejection with this reason.
func rejectf(format string, args ...any) error {
	return &rejection{reason: fmt.Sprintf(format, args...)}
}

// rejectBecause is a rejection worded by reason, caused by cause.
func rejectBecause(cause error, reason string) error {
	return &rejection{reason: reason, cause: cause}
}

// notMadeByKeys rejects a signature that verifies with none of the configured
// keys; ids names them.
type notMadeByKeys struct {
	ids []string
}

func (n *notMadeByKeys) Error() string {
	if len(n.ids) == 1 {
		return fmt.Sprintf("signature was not made by the configured key (%s)", n.ids[0])
	}
	return fmt.Sprintf("signature was not made by any of the %d configured keys (%s)", len(n.ids), strings.Join(n.ids, ", "))
}

// reasonOf is the one place a decision-path error becomes a signature's
// reason. Anything but a rejection still rejects (fail closed), and says it
// was not expected.
func reasonOf(err error) string {
	var r *rejection
	var keys *notMadeByKeys
	switch {
	case errors.As(err, &r), errors.As(err, &keys):
		return oneLine(err.Error())
	}
	return oneLine("unexpected failure: " + err.Error())
}
