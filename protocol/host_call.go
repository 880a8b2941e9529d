package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// call resolves plugin name, runs command with request on stdin (nothing when
// request is nil) and returns stdout of an exit-0 answer. Exit status 1 is
// the plugin's Error object, reported with its code; any other outcome is a
// failure. Every error is a *PluginError.
func (h *Host) call(ctx context.Context, name, command string, request any) ([]byte, error) {
	path, err := h.Resolve(name)
	if err != nil {
		return nil, err
	}
	var stdin []byte
	if request != nil {
		if stdin, err = Encode(request); err != nil {
			return nil, &PluginError{Plugin: name, Command: command, Message: OneLine("encoding the request: " + err.Error())}
		}
	}
	inv, err := h.run(ctx, path, command, stdin)
	return answer(name, command, inv, err)
}

// answer judges one run of command: stdout of an exit-0 answer, the plugin's
// Error object for exit status 1, or a *PluginError for anything else. An
// error the caller's gather returned (see VerifyGathered) is passed on as it is.
func answer(name, command string, inv *invocation, err error) ([]byte, error) {
	fail := func(format string, args ...any) error {
		return &PluginError{Plugin: name, Command: command, Message: OneLine(fmt.Sprintf(format, args...))}
	}
	var gerr *gatherError
	var perr *PluginError
	switch {
	case errors.As(err, &gerr):
		return nil, gerr.err
	case errors.As(err, &perr):
		return nil, perr
	case err != nil:
		return nil, fail("%v", err)
	}
	switch inv.exitCode {
	case ExitOK:
		if len(inv.stdout) == 0 {
			return nil, fail("exit status 0 but nothing on stdout%s", stderrHint(inv.stderr))
		}
		return inv.stdout, nil
	case ExitError:
		untrustedError, err := decodeErrorMessage(inv.stdout)
		if err != nil {
			return nil, fail("exit status 1 without a valid Error object (%v)%s", err, stderrHint(inv.stderr))
		}
		return nil, &PluginError{Plugin: name, Command: command, Code: OneLine(untrustedError.Code), Message: OneLine(untrustedError.Message)}
	default:
		return nil, fail("exit status %d%s", inv.exitCode, stderrHint(inv.stderr))
	}
}

func stderrHint(stderr []byte) string {
	if line := lastLine(stderr); line != "" {
		return "; stderr: " + line
	}
	return ""
}

// Metadata runs the plugin's metadata command.
func (h *Host) Metadata(ctx context.Context, name string) (*Metadata, error) {
	untrusted, err := h.call(ctx, name, CommandMetadata, nil)
	if err != nil {
		return nil, err
	}
	md, err := decodeMetadata(untrusted)
	if err != nil {
		return nil, &PluginError{Plugin: name, Command: CommandMetadata, Message: "malformed Metadata: " + OneLine(err.Error())}
	}
	return md, nil
}

// ValidateConfig runs the plugin's validate-config command on config, a
// requirement's config exactly as policy.json holds it. A config with errors
// is a response with Valid false, not an error; an error means the plugin
// could not answer (including exit status 1, e.g. INVALID_REQUEST).
func (h *Host) ValidateConfig(ctx context.Context, name string, config json.RawMessage) (*ValidateConfigResponse, error) {
	if !json.Valid(config) {
		return nil, &PluginError{Plugin: name, Command: CommandValidateConfig, Message: "config is not valid JSON"}
	}
	req := &ValidateConfigRequest{APIVersion: APIVersion, Kind: KindValidateConfigRequest, Config: config}
	untrusted, err := h.call(ctx, name, CommandValidateConfig, req)
	if err != nil {
		return nil, err
	}
	resp, err := decodeValidateConfigResponse(untrusted)
	if err != nil {
		return nil, &PluginError{Plugin: name, Command: CommandValidateConfig, Message: "malformed ValidateConfigResponse: " + OneLine(err.Error())}
	}
	return resp, nil
}
