package cli

import (
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestCheckScripts runs testdata/check/*.txtar: check's command line, exit
// statuses and errors that need no registry (the end-to-end tests in
// check_e2e_test.go need one).
func TestCheckScripts(t *testing.T) {
	testscript.Run(t, scriptParams(t, "testdata/check"))
}
