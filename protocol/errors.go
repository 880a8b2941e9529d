package protocol

import "fmt"

// Error codes.
const (
	CodeInvalidRequest        = "INVALID_REQUEST"
	CodeInvalidConfig         = "INVALID_CONFIG"
	CodeUnsupportedAPIVersion = "UNSUPPORTED_API_VERSION"
	CodeUnknownCommand        = "UNKNOWN_COMMAND"
	CodeInternal              = "INTERNAL"
)

// CodedError is an error that a plugin reports as an Error object with a code.
type CodedError struct {
	Code    string
	Message string
}

func (e *CodedError) Error() string { return e.Code + ": " + e.Message }

// Errorf makes a CodedError.
func Errorf(code, format string, args ...any) *CodedError {
	return &CodedError{Code: code, Message: fmt.Sprintf(format, args...)}
}
