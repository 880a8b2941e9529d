package trustedroot

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

func TestFirstUpdateWritesTheVerifiedTarget(t *testing.T) {
	env := newTestEnv(t)
	res := env.mustUpdate(t)
	if !res.Changed {
		t.Error("a first update says nothing changed")
	}
	got, err := os.ReadFile(env.opts.Output)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, env.first) {
		t.Error("the output is not the published target")
	}
	info, err := os.Stat(env.opts.Output)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", info.Mode().Perm())
	}
	// A first install lists everything it now trusts, one line each.
	for _, kind := range kindOrder {
		if !slices.ContainsFunc(res.Changes, func(l string) bool { return strings.HasPrefix(l, string(kind)+" added: ") }) {
			t.Errorf("no %q added line in %q", kind, res.Changes)
		}
	}
	status, err := ReadStatus(env.opts.Output)
	if err != nil || status == nil {
		t.Fatalf("status: %v, %v", status, err)
	}
	if !status.Describes(got) || status.Repository != env.opts.Mirror || status.TimestampVersion != 1 ||
		!status.TimestampExpires.Equal(env.repo.Timestamp.Signed.Expires) {
		t.Errorf("status %+v does not describe the update (timestamp expires %v)", status, env.repo.Timestamp.Signed.Expires)
	}
}

func TestUnchangedRunFetchesOnlyTheNextRootAndTimestamp(t *testing.T) {
	env := newTestEnv(t)
	env.mustUpdate(t)
	first := env.repo.TakeRequests()
	if want := []string{"/2.root.json", "/timestamp.json", "/1.snapshot.json", "/1.targets.json"}; !slices.Equal(first[:4], want) {
		t.Errorf("first run requested %s, want %s then the target", strings.Join(first, " "), strings.Join(want, " "))
	}
	before := env.files(t)
	res := env.mustUpdate(t)
	if res.Changed || len(res.Changes) != 0 {
		t.Errorf("nothing was published, yet the update says %v %q", res.Changed, res.Changes)
	}
	// The TUF client workflow with a current cache: look for a newer root, then
	// the timestamp, whose unchanged version means nothing else is fetched.
	if got, want := env.repo.TakeRequests(), []string{"/2.root.json", "/timestamp.json"}; !slices.Equal(got, want) {
		t.Errorf("second run requested %s, want %s", strings.Join(got, " "), strings.Join(want, " "))
	}
	if after := env.files(t); !bytes.Equal(before.output, after.output) {
		t.Error("an unchanged target rewrote the output")
	}
}

func TestRootRotationWithChangedThreshold(t *testing.T) {
	env := newTestEnv(t)
	env.mustUpdate(t)
	env.repo.TakeRequests()

	// Root v2: three new root keys, any two of which sign.
	env.repo.RotateRoot(metadata.ROOT, 3, 2)
	env.repo.PublishTimestamp()
	res := env.mustUpdate(t)
	if res.Changed {
		t.Errorf("a root rotation alone changed the trusted root: %q", res.Changes)
	}
	if got := env.repo.TakeRequests(); !slices.Equal(got[:3], []string{"/2.root.json", "/3.root.json", "/timestamp.json"}) {
		t.Errorf("requests %s do not walk the root versions", strings.Join(got, " "))
	}

	// The next run starts from the cached root v2: it asks for v3 only.
	env.mustUpdate(t)
	if got := env.repo.TakeRequests(); got[0] != "/3.root.json" {
		t.Errorf("after a rotation the client asked for %s first, want /3.root.json", got[0])
	}

	// Root v3 signed by one of v2's three root keys (and its own): below the
	// threshold of two that v2 set, so TUF refuses it.
	before := env.files(t)
	v2keys := env.repo.Keys[metadata.ROOT]
	env.repo.Keys[metadata.ROOT] = v2keys[:1]
	env.repo.RotateRoot(metadata.SNAPSHOT, 1, 1)
	_, err := env.update(t)
	assertRefused(t, err, "Verifying root failed, not enough signatures")
	env.assertIntact(t, before)
}
