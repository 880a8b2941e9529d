// Package tuftest serves a TUF repository for tests: real go-tuf metadata,
// signed with real keys, over HTTP on 127.0.0.1, which attacks can alter.
package tuftest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// TargetName is the target the repository publishes the trusted root as.
const TargetName = "trusted_root.json"

// Repo is a TUF repository made with go-tuf's metadata API and served over
// HTTP on 127.0.0.1, laid out as Sigstore's is (consistent snapshots: N.root.json,
// timestamp.json, V.snapshot.json, V.targets.json, targets/<sha256>.<name>).
// Each role has its own keys; root changes go through RotateRoot.
type Repo struct {
	t         testing.TB
	Keys      map[string][]ed25519.PrivateKey
	Root      *metadata.Metadata[metadata.RootType]
	Targets   *metadata.Metadata[metadata.TargetsType]
	Snapshot  *metadata.Metadata[metadata.SnapshotType]
	Timestamp *metadata.Metadata[metadata.TimestampType]
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

// New publishes root v1 and a first release of trustedRoot as the
// trusted_root.json target.
func New(t testing.TB, trustedRoot []byte) *Repo {
	t.Helper()
	r := &Repo{
		t:         t,
		Keys:      map[string][]ed25519.PrivateKey{},
		Root:      metadata.Root(expiry()),
		Targets:   metadata.Targets(expiry()),
		Snapshot:  metadata.Snapshot(expiry()),
		Timestamp: metadata.Timestamp(expiry()),
		files:     map[string][]byte{},
	}
	r.Targets.Signed.Version = 0 // release makes it 1
	r.Snapshot.Signed.Version = 0
	r.Timestamp.Signed.Version = 0
	for _, role := range []string{metadata.ROOT, metadata.TARGETS, metadata.SNAPSHOT, metadata.TIMESTAMP} {
		key := NewKey(t)
		r.Keys[role] = []ed25519.PrivateKey{key}
		tufKey, err := metadata.KeyFromPublicKey(key.Public())
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Root.Signed.AddKey(tufKey, role); err != nil {
			t.Fatal(err)
		}
	}
	r.publishRoot(r.Keys[metadata.ROOT])
	r.Release(trustedRoot)
	r.server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.server.Close)
	return r
}

func NewKey(t testing.TB) ed25519.PrivateKey {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func (r *Repo) URL() string { return r.server.URL }

// rootJSON is the version-1 root, the client's bootstrap (--root).
func (r *Repo) RootJSON() []byte { return r.File("/1.root.json") }

func (r *Repo) serve(w http.ResponseWriter, req *http.Request) {
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
func (r *Repo) TakeRequests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	reqs := r.requests
	r.requests = nil
	return reqs
}

func (r *Repo) File(path string) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.files[path]
}

func (r *Repo) Put(path string, data []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.files[path] = data
}

func (r *Repo) SetIntercept(f func(w http.ResponseWriter, req *http.Request) bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.intercept = f
}

// sign replaces meta's signatures with signatures by keys.
func Sign[T metadata.Roles](t testing.TB, meta *metadata.Metadata[T], keys []ed25519.PrivateKey) []byte {
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

func (r *Repo) publishRoot(signers []ed25519.PrivateKey) {
	data := Sign(r.t, r.Root, signers)
	r.Put(fmt.Sprintf("/%d.root.json", r.Root.Signed.Version), data)
}

// release publishes trustedRoot as the target in a new targets, snapshot and
// timestamp version.
func (r *Repo) Release(trustedRoot []byte) {
	r.t.Helper()
	info, err := metadata.TargetFile().FromBytes(TargetName, trustedRoot, "sha256")
	if err != nil {
		r.t.Fatal(err)
	}
	r.Targets.Signed.Version++
	r.Targets.Signed.Targets[TargetName] = info
	r.Put(fmt.Sprintf("/targets/%s.%s", info.Hashes["sha256"], TargetName), trustedRoot)
	r.Put(fmt.Sprintf("/%d.targets.json", r.Targets.Signed.Version), Sign(r.t, r.Targets, r.Keys[metadata.TARGETS]))
	r.Snapshot.Signed.Meta["targets.json"] = metadata.MetaFile(r.Targets.Signed.Version)
	r.PublishSnapshot()
}

// publishSnapshot signs the snapshot as a new version and a timestamp for it.
func (r *Repo) PublishSnapshot() {
	r.Snapshot.Signed.Version++
	r.Put(fmt.Sprintf("/%d.snapshot.json", r.Snapshot.Signed.Version), Sign(r.t, r.Snapshot, r.Keys[metadata.SNAPSHOT]))
	r.Timestamp.Signed.Meta["snapshot.json"] = metadata.MetaFile(r.Snapshot.Signed.Version)
	r.PublishTimestamp()
}

func (r *Repo) PublishTimestamp() {
	r.Timestamp.Signed.Version++
	r.Put("/timestamp.json", Sign(r.t, r.Timestamp, r.Keys[metadata.TIMESTAMP]))
}

// rotateRoot publishes the next root version with n fresh keys for role and
// the given threshold, signed by the previous root keys and the new ones, as
// the TUF specification requires (5.3.4).
func (r *Repo) RotateRoot(role string, n, threshold int) {
	r.t.Helper()
	previous := r.Keys[metadata.ROOT]
	for _, id := range slices.Clone(r.Root.Signed.Roles[role].KeyIDs) {
		if err := r.Root.Signed.RevokeKey(id, role); err != nil {
			r.t.Fatal(err)
		}
	}
	var keys []ed25519.PrivateKey
	for range n {
		key := NewKey(r.t)
		keys = append(keys, key)
		tufKey, err := metadata.KeyFromPublicKey(key.Public())
		if err != nil {
			r.t.Fatal(err)
		}
		if err := r.Root.Signed.AddKey(tufKey, role); err != nil {
			r.t.Fatal(err)
		}
	}
	r.Root.Signed.Roles[role].Threshold = threshold
	r.Keys[role] = keys
	r.Root.Signed.Version++
	signers := append(append([]ed25519.PrivateKey{}, previous...), r.Keys[metadata.ROOT]...)
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
