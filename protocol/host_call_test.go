package protocol

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestMetadata(t *testing.T) {
	t.Run("a well-formed answer is decoded", func(t *testing.T) {
		h, _ := installPlugin(t, "good")
		md, err := h.Metadata(context.Background(), "good")
		if err != nil {
			t.Fatal(err)
		}
		if md.Name != "good" || md.Version != "1.0.0" || !slices.Equal(md.APIVersions, []string{APIVersion}) ||
			!slices.Equal(md.SignatureFormats, []string{FormatSigstoreJSON, FormatSigstoreBundle}) {
			t.Errorf("metadata %+v", md)
		}
	})
	for _, tt := range []struct{ name, plugin, want string }{
		{"a field of the wrong type is an error", "bad-metadata", "apiVersions: must be an array"},
		{"another kind is an error", "wrong-kind", `kind "ValidateConfigResponse", want "Metadata"`},
		{"a crash is an error", "panics", "exit status 2"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := installPlugin(t, tt.plugin)
			md, err := h.Metadata(context.Background(), tt.plugin)
			var perr *PluginError
			if !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Metadata = %+v, %v; want a *PluginError containing %q", md, err, tt.want)
			}
		})
	}
}

func TestValidateConfig(t *testing.T) {
	h, _ := installPlugin(t, "good")
	t.Run("a valid config with warnings", func(t *testing.T) {
		resp, err := h.ValidateConfig(context.Background(), "good", json.RawMessage(acceptConfig))
		if err != nil {
			t.Fatal(err)
		}
		if !resp.Valid || len(resp.Errors) != 0 || len(resp.Warnings) != 1 || resp.Warnings[0].Path != "config" {
			t.Errorf("response %+v, want valid with one warning at config", resp)
		}
	})
	t.Run("an invalid config is an answer, not an error", func(t *testing.T) {
		resp, err := h.ValidateConfig(context.Background(), "good", json.RawMessage(`{"accept":"yes"}`))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Valid || len(resp.Errors) != 1 || resp.Errors[0].Path != "config.accept" {
			t.Errorf("response %+v, want invalid with an error at config.accept", resp)
		}
	})
	t.Run("config that is not JSON is not sent", func(t *testing.T) {
		if _, err := h.ValidateConfig(context.Background(), "good", json.RawMessage(`{`)); err == nil {
			t.Error("ValidateConfig accepted a config that is not JSON")
		}
	})
	for _, tt := range []struct{ name, plugin, want, code string }{
		{"valid true with errors is an error", "invalid-but-valid", "valid is true with 1 errors", ""},
		{"warnings that are not an array are an error", "problems-wrong-type", "warnings: must be an array", ""},
		{"an Error object is an error with its code", "error-object", "config.identities: required second line", CodeInvalidConfig},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := installPlugin(t, tt.plugin)
			resp, err := h.ValidateConfig(context.Background(), tt.plugin, json.RawMessage(`{"accept":"yes"}`))
			var perr *PluginError
			if !errors.As(err, &perr) || !strings.Contains(err.Error(), tt.want) || perr.Code != tt.code {
				t.Errorf("ValidateConfig = %+v, %v; want a *PluginError with code %q containing %q", resp, err, tt.code, tt.want)
			}
		})
	}
}
