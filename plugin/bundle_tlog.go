package plugin

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// checkLogWindows runs after sigstore-go accepted a bundle, on its verified
// times. sigstore-go holds a log to its validity window only through a SET's
// integratedTime; a Rekor v2 entry, or a v1 entry with only an inclusion proof,
// has no signed time, so it never asks whether the log's key was trusted when
// the entry was made. A trusted root that ends a log's window (a retired or
// compromised key) must not go on vouching for entries after that end, so at
// least one entry sigstore-go counted must come from a log valid at every
// verified time.
func checkLogWindows(u *untrustedBundle, material root.TrustedMaterial, result *verify.VerificationResult) error {
	untrustedEntries, err := u.TlogEntries()
	if err != nil {
		return rejectBecause(err, "bundle transparency log entries: "+err.Error())
	}
	logs := material.RekorLogs()
	var misses []string
	for _, entry := range untrustedEntries {
		logID := hex.EncodeToString([]byte(entry.LogKeyID()))
		log, ok := logs[logID]
		if !ok {
			continue // sigstore-go skipped it too
		}
		if entry.HasInclusionPromise() && tlog.VerifySET(entry, logs) != nil {
			continue // likewise
		}
		at, ok := outsideWindow(log, result.VerifiedTimestamps)
		if !ok {
			return nil
		}
		misses = append(misses, fmt.Sprintf("log %s was not valid at %s (%s)", logID, formatTime(at), describeWindow(log.ValidityPeriodStart, log.ValidityPeriodEnd)))
	}
	if len(misses) == 0 {
		// Only a configuration without logs gets here (key mode), and then
		// checkLogWindows is not called; fail closed all the same.
		return rejectf("no transparency log entry from a trusted log")
	}
	return rejectf("transparency log entry is outside its log's validity window: %s", strings.Join(misses, "; "))
}

// outsideWindow returns the first verified time the log was not valid at; ok is
// false when it was valid at all of them. An unset start is never valid, as in
// sigstore-go's SET check and the trusted root specification.
func outsideWindow(log *root.TransparencyLog, verified []verify.TimestampVerificationResult) (time.Time, bool) {
	for _, ts := range verified {
		if log.ValidityPeriodStart.IsZero() || ts.Timestamp.Before(log.ValidityPeriodStart) ||
			(!log.ValidityPeriodEnd.IsZero() && ts.Timestamp.After(log.ValidityPeriodEnd)) {
			return ts.Timestamp, true
		}
	}
	return time.Time{}, false
}

func describeWindow(start, end time.Time) string {
	from, to := "(unset)", "open"
	if !start.IsZero() {
		from = formatTime(start)
	}
	if !end.IsZero() {
		to = formatTime(end)
	}
	return "valid from " + from + " to " + to
}
