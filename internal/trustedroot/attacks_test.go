package trustedroot

import (
	"crypto/ed25519"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/policy-plugins/sigstore/internal/tuftest"
)

// Each attack runs against a client that has already installed a trusted root
// from the repository, so that "refused" also means "and the file it had stays".
func TestAttacksAreRefusedAndLeaveTheFileIntact(t *testing.T) {
	tests := []struct {
		name string
		// prepare runs before the files are captured: a legitimate release the
		// client installs, so that there is something to roll back to.
		prepare func(t *testing.T, env *testEnv)
		attack  func(t *testing.T, env *testEnv)
		want    string
	}{
		{
			name: "a replayed older timestamp is a rollback",
			prepare: func(t *testing.T, env *testEnv) {
				old := env.repo.File("/timestamp.json")
				env.repo.Release(env.second(t))
				env.mustUpdate(t)
				env.replayed = old
			},
			attack: func(t *testing.T, env *testEnv) { env.repo.Put("/timestamp.json", env.replayed) },
			want:   "new timestamp version 1 must be >= 2",
		},
		{
			name:    "a timestamp naming an older snapshot is a rollback",
			prepare: releaseSecond,
			attack: func(t *testing.T, env *testEnv) {
				env.repo.Timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(1)
				env.repo.PublishTimestamp()
			},
			want: "new snapshot version 1 must be >= 2",
		},
		{
			name:    "a snapshot naming older targets is a rollback",
			prepare: releaseSecond,
			attack: func(t *testing.T, env *testEnv) {
				env.repo.Snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(1)
				env.repo.PublishSnapshot()
			},
			want: "expected targets.json version 1, got 2", // go-tuf: the new snapshot lists 1, the trusted one 2
		},
		{
			name: "an expired timestamp is a freeze",
			attack: func(t *testing.T, env *testEnv) {
				env.repo.Timestamp.Signed.Expires = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
				env.repo.PublishTimestamp()
			},
			want: "timestamp.json is expired",
		},
		{
			name: "an expired snapshot is a freeze",
			attack: func(t *testing.T, env *testEnv) {
				env.repo.Snapshot.Signed.Expires = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
				env.repo.PublishSnapshot()
			},
			want: "snapshot.json is expired",
		},
		{
			name: "a snapshot other than the one the timestamp pins is mix-and-match",
			attack: func(t *testing.T, env *testEnv) {
				r := env.repo
				r.Snapshot.Signed.Version++
				genuine := tuftest.Sign(t, r.Snapshot, r.Keys[metadata.SNAPSHOT])
				pinned := metadata.MetaFile(r.Snapshot.Signed.Version)
				sum := sha256.Sum256(genuine)
				pinned.Length, pinned.Hashes = int64(len(genuine)), metadata.Hashes{"sha256": sum[:]}
				r.Timestamp.Signed.Meta["snapshot.json"] = pinned
				r.PublishTimestamp()
				// Same version, validly signed, different content: not the snapshot
				// this timestamp vouches for.
				r.Snapshot.Signed.Expires = r.Snapshot.Signed.Expires.Add(time.Hour)
				r.Put(fmt.Sprintf("/%d.snapshot.json", r.Snapshot.Signed.Version), tuftest.Sign(t, r.Snapshot, r.Keys[metadata.SNAPSHOT]))
			},
			want: "length/hash verification error",
		},
		{
			name: "an older snapshot served under the version the timestamp names is mix-and-match",
			attack: func(t *testing.T, env *testEnv) {
				old := env.repo.File("/1.snapshot.json")
				env.repo.PublishSnapshot()
				env.repo.Put("/2.snapshot.json", old)
			},
			want: "expected 2, got 1",
		},
		{
			name: "a target whose hash does not match the signed targets",
			attack: func(t *testing.T, env *testEnv) {
				path := env.releaseTampered(t, func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
				_ = path
			},
			want: "length/hash verification error",
		},
		{
			name: "a target shorter than the signed length",
			attack: func(t *testing.T, env *testEnv) {
				env.releaseTampered(t, func(b []byte) []byte { return b[:len(b)-1] })
			},
			want: "length/hash verification error",
		},
		{
			name: "a target longer than the signed length",
			attack: func(t *testing.T, env *testEnv) {
				env.releaseTampered(t, func(b []byte) []byte { return append(b, ' ') })
			},
			want: "download length mismatch",
		},
		{
			name: "a timestamp signed by a key the root does not list",
			attack: func(t *testing.T, env *testEnv) {
				env.repo.Keys[metadata.TIMESTAMP] = []ed25519.PrivateKey{tuftest.NewKey(t)}
				env.repo.PublishTimestamp()
			},
			want: "Verifying timestamp failed, not enough signatures",
		},
		{
			name: "a target that is not a trusted root",
			attack: func(t *testing.T, env *testEnv) {
				env.repo.Release([]byte(`{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"`))
			},
			want: "not a Sigstore trusted root",
		},
		{
			name: "a trusted root without a Fulcio CA",
			attack: func(t *testing.T, env *testEnv) {
				env.repo.Release(env.variant(t, func(tr *root.TrustedRoot) (*root.TrustedRoot, error) {
					return root.NewTrustedRoot(root.TrustedRootMediaType01, nil, tr.CTLogs(), tr.TimestampingAuthorities(), tr.RekorLogs())
				}))
			},
			want: "no Fulcio certificate authority",
		},
		{
			name: "a trusted root without a transparency log",
			attack: func(t *testing.T, env *testEnv) {
				env.repo.Release(env.variant(t, func(tr *root.TrustedRoot) (*root.TrustedRoot, error) {
					return root.NewTrustedRoot(root.TrustedRootMediaType01, tr.FulcioCertificateAuthorities(), tr.CTLogs(), tr.TimestampingAuthorities(), nil)
				}))
			},
			want: "no transparency log",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newTestEnv(t)
			env.mustUpdate(t)
			if tt.prepare != nil {
				tt.prepare(t, env)
			}
			before := env.files(t)
			tt.attack(t, env)
			_, err := env.update(t)
			assertRefused(t, err, tt.want)
			env.assertIntact(t, before)
		})
	}
}

// releaseSecond publishes a second trusted root, which the client installs.
func releaseSecond(t *testing.T, env *testEnv) {
	env.repo.Release(env.second(t))
	if res := env.mustUpdate(t); !res.Changed {
		t.Fatal("the second release was not installed")
	}
}

// second is a trusted root different from the first: one more Rekor log.
func (env *testEnv) second(t testing.TB) []byte {
	t.Helper()
	return withExtraRekorLog(t, env.first, newRekorLog(t, "rekor2.fixture.test"))
}

// variant is the first trusted root changed by f.
func (env *testEnv) variant(t testing.TB, f func(*root.TrustedRoot) (*root.TrustedRoot, error)) []byte {
	t.Helper()
	return rootVariant(t, env.first, f)
}

// releaseTampered releases a second trusted root correctly signed, then serves
// tamper's version of the target bytes in its place.
func (env *testEnv) releaseTampered(t testing.TB, tamper func([]byte) []byte) string {
	t.Helper()
	second := env.second(t)
	env.repo.Release(second)
	sum := sha256.Sum256(second)
	path := fmt.Sprintf("/targets/%x.%s", sum, TargetName)
	env.repo.Put(path, tamper(append([]byte(nil), second...)))
	return path
}
