package protocol

import (
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// maxErrorMessageBytes bounds an Error's message (a config error may quote what
// it rejects), so that every answer Serve writes fits in a host's stdout limit.
const maxErrorMessageBytes = 64 << 10

// Handler is a policy plugin's logic; Serve does the protocol around it.
type Handler interface {
	Metadata() Metadata
	// ValidateConfig returns the problems of a config; an error is for failures
	// other than an invalid config.
	ValidateConfig(req *ValidateConfigRequest) (*ValidateConfigResponse, error)
	// Verify evaluates a request. A rejection is a response, not an error; return a
	// *CodedError with CodeInvalidConfig for a config that cannot be used.
	Verify(req *VerifyRequest) (*VerifyResponse, error)
}

// Serve runs one plugin invocation: args are the arguments after the program name
// (the command), stdin holds the request. It writes exactly one JSON object to
// stdout, in a single write after the whole answer is known, and returns the exit
// status. It never panics: a panic in the handler becomes an INTERNAL error.
func Serve(h Handler, args []string, stdin io.Reader, stdout, stderr io.Writer) (status int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "panic: %v\n%s", r, debug.Stack())
			status = writeError(stdout, stderr, Errorf(CodeInternal, "internal error: %v", r))
		}
	}()
	response, err := dispatch(h, args, stdin)
	if err != nil {
		return writeError(stdout, stderr, err)
	}
	out, err := Encode(response)
	if err != nil {
		return writeError(stdout, stderr, Errorf(CodeInternal, "encoding the response: %v", err))
	}
	if len(out) > MaxStdoutBytes {
		// A host discards a longer answer anyway; say why instead.
		return writeError(stdout, stderr, Errorf(CodeInternal, "the response is %d bytes, more than the %d a host reads", len(out), MaxStdoutBytes))
	}
	if _, err := stdout.Write(out); err != nil {
		fmt.Fprintf(stderr, "writing the response: %v\n", err)
		return ExitError
	}
	return ExitOK
}

func dispatch(h Handler, args []string, stdin io.Reader) (any, error) {
	if len(args) != 1 {
		return nil, Errorf(CodeUnknownCommand, "expected exactly one command (%s, %s or %s), got %d arguments",
			CommandMetadata, CommandValidateConfig, CommandVerify, len(args))
	}
	switch args[0] {
	case CommandMetadata:
		md := h.Metadata()
		md.APIVersion, md.Kind = APIVersion, KindMetadata
		return &md, nil
	case CommandValidateConfig:
		data, err := readRequest(stdin)
		if err != nil {
			return nil, err
		}
		req, err := DecodeValidateConfigRequest(data)
		if err != nil {
			return nil, err
		}
		resp, err := h.ValidateConfig(req)
		if err != nil {
			return nil, err
		}
		resp.APIVersion, resp.Kind = APIVersion, KindValidateConfigResponse
		resp.Valid = len(resp.Errors) == 0
		if resp.Errors == nil {
			resp.Errors = []ConfigProblem{}
		}
		if resp.Warnings == nil {
			resp.Warnings = []ConfigProblem{}
		}
		return resp, nil
	case CommandVerify:
		// A request may be near MaxRequestBytes (many signatures): the
		// process is Serve's, so is its garbage collector.
		LimitMemory(SoftMemoryLimit)
		data, err := readRequest(stdin)
		if err != nil {
			return nil, err
		}
		req, err := DecodeVerifyRequest(data)
		if err != nil {
			return nil, err
		}
		resp, err := h.Verify(req)
		if err != nil {
			return nil, err
		}
		resp.APIVersion, resp.Kind, resp.RequestID = APIVersion, KindVerifyResponse, req.RequestID
		return resp, nil
	default:
		return nil, Errorf(CodeUnknownCommand, "unknown command %q", args[0])
	}
}

func readRequest(stdin io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(stdin, MaxRequestBytes+1))
	if err != nil {
		return nil, Errorf(CodeInvalidRequest, "reading the request: %v", err)
	}
	if len(data) > MaxRequestBytes {
		return nil, Errorf(CodeInvalidRequest, "request is larger than %d bytes", MaxRequestBytes)
	}
	return data, nil
}

func writeError(stdout, stderr io.Writer, err error) int {
	var coded *CodedError
	if !errors.As(err, &coded) {
		coded = &CodedError{Code: CodeInternal, Message: err.Error()}
	}
	message := coded.Message
	if len(message) > maxErrorMessageBytes {
		message = strings.ToValidUTF8(message[:maxErrorMessageBytes], "") + "..."
	}
	out, encErr := Encode(NewError(coded.Code, message))
	if encErr != nil { // cannot happen for two strings; still never exit 0
		fmt.Fprintf(stderr, "encoding the error: %v\n", encErr)
		return ExitError
	}
	if _, werr := stdout.Write(out); werr != nil {
		fmt.Fprintf(stderr, "writing the error: %v\n", werr)
	}
	return ExitError
}
