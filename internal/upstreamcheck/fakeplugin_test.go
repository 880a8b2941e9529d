package upstreamcheck

import (
	"fmt"
	"testing"
)

// Fake plugins, for the fail-closed rules: shell scripts that answer
// validate-config as a valid config, then do onVerify on verify.
const fakePluginTemplate = `#!/bin/sh
case "$1" in
validate-config)
	cat >/dev/null
	echo '{"apiVersion":"containers-policy-plugin/v1alpha1","kind":"ValidateConfigResponse","valid":true,"errors":[],"warnings":[]}'
	%s ;;
verify)
	cat >/dev/null
	%s ;;
*) exit 2 ;;
esac
`

// fakePlugin installs a fake plugin as dir/name; afterValidate runs after a
// validate-config answer (at policy load), onVerify on verify.
func fakePlugin(t *testing.T, dir, name, afterValidate, onVerify string) string {
	t.Helper()
	if afterValidate == "" {
		afterValidate = ":"
	}
	return writeExecutable(t, dir, name, fmt.Appendf(nil, fakePluginTemplate, afterValidate, onVerify))
}

// crashingVerify dies as a segfaulting plugin would.
const crashingVerify = `echo "segmentation fault in verify" >&2; exit 139`
