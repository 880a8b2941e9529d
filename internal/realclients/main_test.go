package realclients

import (
	"os"
	"testing"

	"github.com/policy-plugins/sigstore/internal/upstreamclients"
)

func TestMain(m *testing.M) {
	code := m.Run()
	upstreamclients.Cleanup()
	os.Exit(code)
}
