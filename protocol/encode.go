package protocol

import (
	"bytes"
	"encoding/json"
)

// Encode renders a message as one line of JSON followed by a newline. HTML escaping
// is off: reasons quote URLs, and \u0026 in them helps no reader.
func Encode(message any) ([]byte, error) {
	if req, ok := message.(*VerifyRequest); ok && len(req.Signatures) > 1 {
		return encodeVerifyRequest(req)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(message); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// NewError makes the Error message for a CodedError.
func NewError(code, message string) *Error {
	return &Error{APIVersion: APIVersion, Kind: KindError, Code: code, Message: message}
}
