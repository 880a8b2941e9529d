package trustedroot

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/policy-plugins/sigstore/internal/fixture"
)

func TestShowListsItemsAndWarnsAboutEndingWindows(t *testing.T) {
	in := testInstance(t)
	now := time.Date(2030, time.June, 1, 0, 0, 0, 0, time.UTC)
	data, err := in.TrustedRootJSONWith(fixture.Validity{
		Rekor: fixture.Window{End: now.Add(-24 * time.Hour)},     // retired
		CTLog: fixture.Window{End: now.Add(10 * 24 * time.Hour)}, // ending soon
		TSA:   fixture.Window{End: now.Add(90 * 24 * time.Hour)}, // fine
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Show(&out, "trusted_root.json", data, now); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"Fulcio CA", "transparency log     https://rekor.fixture.test", "CT log", "timestamp authority",
		"valid 2021-01-01T00:00:00Z .. (open)",
		"warning: transparency log https://rekor.fixture.test",
		"ended 2030-05-31T00:00:00Z",
		"ends 2030-06-11T00:00:00Z, within 30 days",
		"not installed by trusted-root update",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("show does not say %q:\n%s", want, text)
		}
	}
	if strings.Count(text, "warning: ") != 2 {
		t.Errorf("want exactly two warnings (ended log, ending CT log):\n%s", text)
	}
}

func TestShowReportsTheTUFStatus(t *testing.T) {
	env := newTestEnv(t)
	env.mustUpdate(t)
	data, err := os.ReadFile(env.opts.Output)
	if err != nil {
		t.Fatal(err)
	}
	expires := env.repo.Timestamp.Signed.Expires
	for _, tt := range []struct {
		name string
		now  time.Time
		want string
		bad  string
	}{
		{"while the timestamp is valid", expires.Add(-time.Hour), "updated over TUF from " + env.opts.Mirror, "warning"},
		{"after the timestamp expired", expires.Add(time.Hour), "warning: not updated since its TUF timestamp expired", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := Show(&out, env.opts.Output, data, tt.now); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.want) || (tt.bad != "" && strings.Contains(out.String(), tt.bad)) {
				t.Errorf("want %q and not %q:\n%s", tt.want, tt.bad, out.String())
			}
		})
	}
}

func TestDiffNamesEachChange(t *testing.T) {
	in := testInstance(t)
	start := fixture.InfrastructureStart
	end := time.Date(2031, time.January, 1, 0, 0, 0, 0, time.UTC)
	parse := func(data []byte, err error) *root.TrustedRoot {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		tr, err := root.NewTrustedRootFromJSON(data)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	old := parse(in.TrustedRootJSON())
	retired := parse(in.TrustedRootJSONWith(fixture.Validity{Rekor: fixture.Window{Start: start, End: end}}))
	if got := Diff(Items(old), Items(old)); len(got) != 0 {
		t.Errorf("no change, yet %q", got)
	}
	got := Diff(Items(old), Items(retired))
	if len(got) != 1 || !strings.HasPrefix(got[0], "transparency log validity changed: https://rekor.fixture.test") ||
		!strings.HasSuffix(got[0], "2021-01-01T00:00:00Z .. (open) -> 2021-01-01T00:00:00Z .. 2031-01-01T00:00:00Z") {
		t.Errorf("retiring a log: %q", got)
	}
	noTSA, err := root.NewTrustedRoot(root.TrustedRootMediaType01, old.FulcioCertificateAuthorities(), old.CTLogs(), nil, old.RekorLogs())
	if err != nil {
		t.Fatal(err)
	}
	if got := Diff(Items(old), Items(noTSA)); len(got) != 1 || !strings.HasPrefix(got[0], "timestamp authority removed: ") {
		t.Errorf("removing the TSA: %q", got)
	}
}
