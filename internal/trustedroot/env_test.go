package trustedroot

import (
	"bytes"
	"context"
	"crypto"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/policy-plugins/sigstore/internal/fixture"
	"github.com/policy-plugins/sigstore/internal/tuftest"
)

var (
	instanceOnce sync.Once
	instance     *fixture.Instance
	instanceErr  error
)

// testInstance is a fixture Sigstore deployment shared by the tests: its keys
// are slow to make and it never changes.
func testInstance(t testing.TB) *fixture.Instance {
	t.Helper()
	instanceOnce.Do(func() { instance, instanceErr = fixture.NewInstance() })
	if instanceErr != nil {
		t.Fatal(instanceErr)
	}
	return instance
}

// testEnv is a TUF repository on 127.0.0.1 publishing the instance's trusted
// root, and update options pointing at it: a test root and a loopback mirror,
// never the public-good defaults.
type testEnv struct {
	in   *fixture.Instance
	repo *tuftest.Repo
	opts Options
	// first is the trusted_root.json the repository publishes first.
	first []byte
	// replayed is metadata an attack saved to serve again later.
	replayed []byte
}

func newTestEnv(t testing.TB) *testEnv {
	t.Helper()
	in := testInstance(t)
	first, err := in.TrustedRootJSON()
	if err != nil {
		t.Fatal(err)
	}
	repo := tuftest.New(t, first)
	dir := t.TempDir()
	return &testEnv{
		in:    in,
		repo:  repo,
		first: first,
		opts: Options{
			Mirror:   repo.URL(),
			Root:     repo.RootJSON(),
			CacheDir: filepath.Join(dir, "var", "tuf"),
			Output:   filepath.Join(dir, "etc", "trusted_root.json"),
			Timeout:  5 * time.Second,
		},
	}
}

func (env *testEnv) update(t testing.TB) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return Update(ctx, env.opts)
}

func (env *testEnv) mustUpdate(t testing.TB) *Result {
	t.Helper()
	res, err := env.update(t)
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	return res
}

// files is the output and its status file, to compare before and after.
type files struct{ output, status []byte }

func (env *testEnv) files(t testing.TB) files {
	t.Helper()
	output, err := os.ReadFile(env.opts.Output)
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(StatusPath(env.opts.Output))
	if err != nil {
		t.Fatal(err)
	}
	return files{output, status}
}

// assertIntact fails unless the output and its status are byte for byte what
// they were, and no temporary file was left beside them.
func (env *testEnv) assertIntact(t testing.TB, before files) {
	t.Helper()
	after := env.files(t)
	if !bytes.Equal(before.output, after.output) {
		t.Errorf("the output changed")
	}
	if !bytes.Equal(before.status, after.status) {
		t.Errorf("the status file changed:\nbefore %s\nafter  %s", before.status, after.status)
	}
	entries, err := os.ReadDir(filepath.Dir(env.opts.Output))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

// assertRefused fails unless err is a refusal that mentions want.
func assertRefused(t testing.TB, err error, want string) {
	t.Helper()
	var refused *RefusedError
	if !errors.As(err, &refused) {
		t.Fatalf("want a refusal mentioning %q, got %v (%T)", want, err, err)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("refusal %q does not mention %q", err, want)
	}
}

// assertFailed fails unless err is an error that is not a refusal and mentions want.
func assertFailed(t testing.TB, err error, want string) {
	t.Helper()
	var refused *RefusedError
	switch {
	case err == nil:
		t.Fatalf("want an error mentioning %q, got success", want)
	case errors.As(err, &refused):
		t.Fatalf("want an I/O error, got a refusal: %v", err)
	case !strings.Contains(err.Error(), want):
		t.Fatalf("error %q does not mention %q", err, want)
	}
}

// withExtraRekorLog is trustedRoot with one more transparency log.
func withExtraRekorLog(t testing.TB, trustedRoot []byte, log *fixture.RekorLog) []byte {
	t.Helper()
	return rootVariant(t, trustedRoot, func(tr *root.TrustedRoot) (*root.TrustedRoot, error) {
		logs := tr.RekorLogs()
		logs[hex.EncodeToString(log.LogID())] = &root.TransparencyLog{
			BaseURL:             log.URL(),
			ID:                  log.LogID(),
			ValidityPeriodStart: fixture.InfrastructureStart,
			HashFunc:            crypto.SHA256,
			PublicKey:           log.Key.Public(),
			SignatureHashFunc:   crypto.SHA256,
		}
		return root.NewTrustedRoot(root.TrustedRootMediaType01, tr.FulcioCertificateAuthorities(), tr.CTLogs(), tr.TimestampingAuthorities(), logs)
	})
}

// rootVariant is the trusted root in data changed by f.
func rootVariant(t testing.TB, data []byte, f func(*root.TrustedRoot) (*root.TrustedRoot, error)) []byte {
	t.Helper()
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	out, err := f(tr)
	if err != nil {
		t.Fatal(err)
	}
	changed, err := out.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return changed
}

func newRekorLog(t testing.TB, host string) *fixture.RekorLog {
	t.Helper()
	log, err := fixture.NewRekorLog(host)
	if err != nil {
		t.Fatal(err)
	}
	return log
}
