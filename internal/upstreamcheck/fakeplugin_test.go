package upstreamcheck

import "github.com/policy-plugins/sigstore/internal/e2e"

// Fake plugins, for the fail-closed rules: shell scripts that do onVerify on
// verify (the only command a pull runs) and fail any other command.
var fakePlugin = e2e.FakePlugin

// crashingVerify dies as a segfaulting plugin would.
const crashingVerify = e2e.CrashingVerify
