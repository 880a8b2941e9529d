package trustedroot

import (
	"fmt"
	"io"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// WarnWithin is how far ahead Show and lint look for windows that end: long
// enough for a monthly maintenance window to notice.
const WarnWithin = 30 * 24 * time.Hour

// Warnings are the items of tr that ended before now or end within WarnWithin,
// one sentence each, and what a root without a CA or a log cannot do.
func Warnings(tr *root.TrustedRoot, now time.Time) []string {
	var ws []string
	if len(tr.FulcioCertificateAuthorities()) == 0 {
		ws = append(ws, "no Fulcio CA: no certificate signature can be verified")
	}
	if len(tr.RekorLogs()) == 0 {
		ws = append(ws, "no transparency log: no signing time can be verified")
	}
	for _, it := range Items(tr) {
		switch {
		case it.End.IsZero():
		case !it.End.After(now):
			ws = append(ws, fmt.Sprintf("%s %s (%s) ended %s: signatures it vouches for after then are rejected",
				it.Kind, it.Name, short(it.ID), it.End.UTC().Format(time.RFC3339)))
		case it.End.Sub(now) <= WarnWithin:
			ws = append(ws, fmt.Sprintf("%s %s (%s) ends %s, within %d days",
				it.Kind, it.Name, short(it.ID), it.End.UTC().Format(time.RFC3339), int(WarnWithin.Hours()/24)))
		}
	}
	return ws
}

// Show describes the trusted root in data (read from path) for people: every
// item with its window, what update recorded about the file, and warnings.
func Show(w io.Writer, path string, data []byte, now time.Time) error {
	tr, err := root.NewTrustedRootFromJSON(data)
	if err != nil {
		return fmt.Errorf("%s is not a Sigstore trusted root: %w", path, err)
	}
	fmt.Fprintf(w, "%s\n", path)
	for _, it := range Items(tr) {
		fmt.Fprintf(w, "  %-20s %s\n  %-20s   id %s\n  %-20s   valid %s\n", it.Kind, it.Name, "", it.ID, "", it.Window())
	}
	var warnings []string
	status, err := ReadStatus(path)
	switch {
	case err != nil:
		warnings = append(warnings, "unreadable update status: "+err.Error())
	case status == nil:
		fmt.Fprintf(w, "not installed by trusted-root update (no %s)\n", StatusPath(path))
	case !status.Describes(data):
		warnings = append(warnings, fmt.Sprintf("the file changed since trusted-root update wrote it (%s): its TUF status no longer applies", StatusPath(path)))
	default:
		fmt.Fprintf(w, "updated over TUF from %s, checked %s; TUF timestamp version %d expires %s\n",
			status.Repository, status.Checked.UTC().Format(time.RFC3339), status.TimestampVersion, status.TimestampExpires.UTC().Format(time.RFC3339))
		if stale := StaleMessage(status, now); stale != "" {
			warnings = append(warnings, stale)
		}
	}
	warnings = append(warnings, Warnings(tr, now)...)
	for _, msg := range warnings {
		fmt.Fprintf(w, "warning: %s\n", msg)
	}
	return nil
}

// StaleMessage says why a file whose status is s is stale at now, or "": once
// the TUF timestamp that vouched for it has expired, nothing says the file is
// still what the repository publishes.
func StaleMessage(s *Status, now time.Time) string {
	if now.Before(s.TimestampExpires) {
		return ""
	}
	return fmt.Sprintf("not updated since its TUF timestamp expired at %s: run 'containers-policy-sigstore trusted-root update' and check that containers-policy-sigstore-trusted-root.timer is enabled",
		s.TimestampExpires.UTC().Format(time.RFC3339))
}
