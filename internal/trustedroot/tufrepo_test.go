package trustedroot

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// tufRepo is a TUF repository made with go-tuf's metadata API and served over
// HTTP on 127.0.0.1, laid out as Sigstore's is (consistent snapshots: N.root.json,
// timestamp.json, V.snapshot.json, V.targets.json, targets/<sha256>.<name>).
// Each role has its own keys; root changes go through rotateRoot.
type tufRepo struct {
	t         testing.TB
	keys      map[string][]ed25519.PrivateKey
	root      *metadata.Metadata[metadata.RootType]
	targets   *metadata.Metadata[metadata.TargetsType]
	snapshot  *metadata.Metadata[metadata.SnapshotType]
	timestamp *metadata.Metadata[metadata.TimestampType]
	server    *httptest.Server

	mu       sync.Mutex
	files    map[string][]byte // URL path -> body
	requests []string
	// intercept, when set, answers a request instead of files (a 500, a stall);
	// it returns false to let the request through.
	intercept func(w http.ResponseWriter, r *http.Request) bool
}

// expiry is far enough that no test run sees metadata expire unless it wants to.
func expiry() time.Time { return time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second) }

// newTUFRepo publishes root v1 and a first release of trustedRoot as the
// trusted_root.json target.
func newTUFRepo(t testing.TB, trustedRoot []byte) *tufRepo {
	t.Helper()
	r := &tufRepo{
		t:         t,
		keys:      map[string][]ed25519.PrivateKey{},
		root:      metadata.Root(expiry()),
		targets:   metadata.Targets(expiry()),
		snapshot:  metadata.Snapshot(expiry()),
		timestamp: metadata.Timestamp(expiry()),
		files:     map[string][]byte{},
	}
	r.targets.Signed.Version = 0 // release makes it 1
	r.snapshot.Signed.Version = 0
	r.timestamp.Signed.Version = 0
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		key := newKey(t)
		r.keys[role] = []ed25519.PrivateKey{key}
		tufKey, err := metadata.KeyFromPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.root.Signed.AddKey(tufKey, role); err != nil {
			t.Fatal(err)
		}
	}
	r.publishRoot(r.keys[metadata.ROOT])
	r.release(trustedRoot)
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.server.Close)
	return r
}

func newKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func (r *tufRepo) url() string { return r.server.URL }

// rootJSON is the version-1 root, the client's bootstrap (--root).
func (r *tufRepo) rootJSON() []byte { return r.file("/1.root.json") }

func (r *tufRepo) serve(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.requests = append(r.requests, req.URL.Path)
	intercept := r.intercept
	body, ok := r.files[req.URL.Path]
	r.mu.Unlock()
	if intercept != nil && intercept(w, req) {
		return
	}
	if !ok {
		http.NotFound(w, req)
		return
	}
	_, _ = w.Write(body)
}

// takeRequests returns the paths requested since the last call.
func (r *tufRepo) takeRequests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.requests
	r.requests = nil
	return reqs
}

func (r *tufRepo) file(path string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.files[path]
}

func (r *tufRepo) put(path string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[path] = data
}

func (r *tufRepo) setIntercept(f func(w http.ResponseWriter, req *http.Request) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.intercept = f
}

// sign replaces meta's signatures with signatures by keys.
func sign[T metadata.Roles](t testing.TB, meta *metadata.Metadata[T], keys []ed25519.PrivateKey) []byte {
	t.Helper()
	meta.ClearSignatures()
	for _, key := range keys {
		signer, err := signature.LoadSigner(key, crypto.Hash(0))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := meta.Sign(signer); err != nil {
			t.Fatal(err)
		}
	}
	data, err := meta.ToBytes(false)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func (r *tufRepo) publishRoot(signers []ed25519.PrivateKey) {
	data := sign(r.t, r.root, signers)
	r.put(fmt.Sprintf("/%d.root.json", r.root.Signed.Version), data)
}

// release publishes trustedRoot as the target in a new targets, snapshot and
// timestamp version.
func (r *tufRepo) release(trustedRoot []byte) {
	r.t.Helper()
	info, err := metadata.TargetFile().FromBytes(TargetName, trustedRoot, "sha256")
	if err != nil {
		r.t.Fatal(err)
	}
	r.targets.Signed.Version++
	r.targets.Signed.Targets[TargetName] = info
	r.put(fmt.Sprintf("/targets/%s.%s", info.Hashes["sha256"], TargetName), trustedRoot)
	r.put(fmt.Sprintf("/%d.targets.json", r.targets.Signed.Version), sign(r.t, r.targets, r.keys[metadata.TARGETS]))
	r.snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(r.targets.Signed.Version)
	r.publishSnapshot()
}

// publishSnapshot signs the snapshot as a new version and a timestamp for it.
func (r *tufRepo) publishSnapshot() {
	r.snapshot.Signed.Version++
	r.put(fmt.Sprintf("/%d.snapshot.json", r.snapshot.Signed.Version), sign(r.t, r.snapshot, r.keys[metadata.SNAPSHOT]))
	r.timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(r.snapshot.Signed.Version)
	r.publishTimestamp()
}

func (r *tufRepo) publishTimestamp() {
	r.timestamp.Signed.Version++
	r.put("/timestamp.json", sign(r.t, r.timestamp, r.keys[metadata.TIMESTAMP]))
}

// rotateRoot publishes the next root version with n fresh keys for role and
// the given threshold, signed by the previous root keys and the new ones, as
// the TUF specification requires (5.3.4).
func (r *tufRepo) rotateRoot(role string, n, threshold int) {
	r.t.Helper()
	previous := r.keys[metadata.ROOT]
	for _, id := range slices.Clone(r.root.Signed.Roles[role].KeyIDs) {
		if err := r.root.Signed.RevokeKey(id, role); err != nil {
			r.t.Fatal(err)
		}
	}
	var keys []ed25519.PrivateKey
	for range n {
		key := newKey(r.t)
		keys = append(keys, key)
		tufKey, err := metadata.KeyFromPublicKey(key.Public())
		if err != nil {
			r.t.Fatal(err)
		}
		if err := r.root.Signed.AddKey(tufKey, role); err != nil {
			r.t.Fatal(err)
		}
	}
	r.root.Signed.Roles[role].Threshold = threshold
	r.keys[role] = keys
	r.root.Signed.Version++
	signers := append(append([]ed25519.PrivateKey{}, previous...), r.keys[metadata.ROOT]...)
	r.publishRoot(uniqueKeys(signers))
}

func uniqueKeys(keys []ed25519.PrivateKey) []ed25519.PrivateKey {
	var out []ed25519.PrivateKey
	seen := map[string]bool{}
	for _, k := range keys {
		if !seen[string(k)] {
			seen[string(k)] = true
			out = append(out, k)
		}
	}
	return out
}

// paths renders requests for a failure message.
func paths(reqs []string) string { return strings.Join(reqs, " ") }
