package cli

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestLintScripts runs testdata/lint/*.txtar: lint's output on good, warned
// and broken policies, golden, with its exit status.
func TestLintScripts(t *testing.T) {
	testscript.Run(t, scriptParams(t, "testdata/lint"))
}
