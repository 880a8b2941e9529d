package trustedroot

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
)

// Kind is a kind of trust material in a trusted root.
type Kind string

// The kinds, in the order Items lists them.
const (
	KindCA  Kind = "Fulcio CA"
	KindLog Kind = "transparency log"
	KindCT  Kind = "CT log"
	KindTSA Kind = "timestamp authority"
)

var kindOrder = []Kind{KindCA, KindLog, KindCT, KindTSA}

// Item is one CA, log or authority with its validity window. A zero Start or End
// is open on that side.
type Item struct {
	Kind Kind
	// ID names the item across versions of a root: a log's ID (hex), a CA's or
	// authority's root certificate SHA-256 (hex, with the leaf's for a TSA).
	ID string
	// Name is for people: the URL, or the root certificate's subject.
	Name       string
	Start, End time.Time
}

// Window renders the validity window.
func (it Item) Window() string {
	start, end := "(unset)", "(open)"
	if !it.Start.IsZero() {
		start = it.Start.UTC().Format(time.RFC3339)
	}
	if !it.End.IsZero() {
		end = it.End.UTC().Format(time.RFC3339)
	}
	return start + " .. " + end
}

// Items lists tr's trust material, by kind, then name, then ID.
func Items(tr *root.TrustedRoot) []Item {
	var items []Item
	for _, ca := range tr.FulcioCertificateAuthorities() {
		items = append(items, caItem(ca))
	}
	for _, log := range tr.RekorLogs() {
		items = append(items, logItem(KindLog, log))
	}
	for _, log := range tr.CTLogs() {
		items = append(items, logItem(KindCT, log))
	}
	for _, tsa := range tr.TimestampingAuthorities() {
		items = append(items, tsaItem(tsa))
	}
	slices.SortFunc(items, func(a, b Item) int {
		if c := slices.Index(kindOrder, a.Kind) - slices.Index(kindOrder, b.Kind); c != 0 {
			return c
		}
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return items
}

func logItem(kind Kind, log *root.TransparencyLog) Item {
	return Item{Kind: kind, ID: hex.EncodeToString(log.ID), Name: log.BaseURL, Start: log.ValidityPeriodStart, End: log.ValidityPeriodEnd}
}

func caItem(ca root.CertificateAuthority) Item {
	f, ok := ca.(*root.FulcioCertificateAuthority)
	if !ok {
		// sigstore-go builds only this type from JSON; anything else is listed
		// rather than dropped.
		return Item{Kind: KindCA, ID: fmt.Sprintf("%T", ca), Name: fmt.Sprintf("%T", ca)}
	}
	return Item{Kind: KindCA, ID: fingerprint(f.Root), Name: nameOr(f.URI, f.Root), Start: f.ValidityPeriodStart, End: f.ValidityPeriodEnd}
}

func tsaItem(tsa root.TimestampingAuthority) Item {
	s, ok := tsa.(*root.SigstoreTimestampingAuthority)
	if !ok {
		return Item{Kind: KindTSA, ID: fmt.Sprintf("%T", tsa), Name: fmt.Sprintf("%T", tsa)}
	}
	id := fingerprint(s.Root)
	if s.Leaf != nil {
		id += "/" + fingerprint(s.Leaf)
	}
	return Item{Kind: KindTSA, ID: id, Name: nameOr(s.URI, s.Root), Start: s.ValidityPeriodStart, End: s.ValidityPeriodEnd}
}

func fingerprint(c *x509.Certificate) string {
	if c == nil {
		return "(no certificate)"
	}
	sum := sha256.Sum256(c.Raw)
	return hex.EncodeToString(sum[:])
}

func nameOr(uri string, c *x509.Certificate) string {
	switch {
	case uri != "":
		return uri
	case c != nil:
		return c.Subject.String()
	}
	return "(unnamed)"
}
