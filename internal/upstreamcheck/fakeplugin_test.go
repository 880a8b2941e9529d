package upstreamcheck

import (
	"fmt"
	"testing"
)

// Fake plugins, for the fail-closed rules: shell scripts that do onVerify on
// verify (the only command a pull runs) and fail any other command.
const fakePluginTemplate = `#!/bin/sh
case "$1" in
verify)
	cat >/dev/null
	%s ;;
*) exit 2 ;;
esac
`

// fakePlugin installs a fake plugin as dir/name doing onVerify on verify.
func fakePlugin(t *testing.T, dir, name, onVerify string) string {
	t.Helper()
	return writeExecutable(t, dir, name, fmt.Appendf(nil, fakePluginTemplate, onVerify))
}

// crashingVerify dies as a segfaulting plugin would.
const crashingVerify = `echo "segmentation fault in verify" >&2; exit 139`
