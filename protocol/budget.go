package protocol

import (
	"encoding/base64"
	"encoding/json"
	"sync"
)

// SignatureBudget is a host's room for signatures in one request: at most
// MaxSignatures entries, and no more bytes than MaxRequestBytes less
// what the rest of the request takes. A host offers it each candidate in its
// order (the image's attachments, its index's, the image's bundles, its
// index's) before reading the candidate's content,
// with the cost its descriptor announces: a candidate that does not fit is
// left out, never read, and counted; later, smaller ones may still fit. So
// whatever a registry holds, a host never reads more than one request's worth
// of signatures, and never fails an image for having found too many.
// Safe for concurrent use.
type SignatureBudget struct {
	mu      sync.Mutex
	entries int
	bytes   int64
	leftOut int
}

// NewSignatureBudget is the budget of a request whose other parts (manifests,
// config, envelope) take at most reserved bytes encoded.
func NewSignatureBudget(reserved int64) *SignatureBudget {
	return &SignatureBudget{entries: MaxSignatures, bytes: MaxRequestBytes - reserved}
}

// Take reserves one entry of cost bytes and says whether it fits; one that
// does not is counted as left out.
func (b *SignatureBudget) Take(cost int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.entries == 0 || cost > b.bytes {
		b.leftOut++
		return false
	}
	b.entries--
	b.bytes -= cost
	return true
}

// Skip counts an entry left out without asking what it costs: there is no
// entry left (Full), so its descriptor need not even be read.
func (b *SignatureBudget) Skip() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leftOut++
}

// Full says whether no entry can be taken any more, whatever its cost.
func (b *SignatureBudget) Full() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.entries == 0 || b.bytes <= 0
}

// LeftOut is how many entries Take refused or Skip counted.
func (b *SignatureBudget) LeftOut() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.leftOut
}

// AttachmentCost bounds from above what a sigstore-json entry adds to an
// encoded request, from its layer descriptor: the payload's size, its media
// type and annotations, before the payload is read.
func AttachmentCost(mimeType string, payloadSize int64, annotations map[string]string) int64 {
	// json.Marshal escapes HTML, Encode does not: an upper bound.
	head, err := json.Marshal(Signature{Format: FormatSigstoreJSON, MIMEType: mimeType, Annotations: annotations})
	if err != nil {
		return MaxRequestBytes + 1
	}
	return int64(len(head)) + int64(len(`,"payload":""`)) + base64Len(payloadSize) + 1 // the comma
}

// BundleCost bounds from above what a sigstore-bundle entry of size bytes
// adds: the bundle is embedded as it is (compacted, never longer).
func BundleCost(mediaType string, size int64) int64 {
	head, err := json.Marshal(Signature{Format: FormatSigstoreBundle, MediaType: mediaType})
	if err != nil {
		return MaxRequestBytes + 1
	}
	return int64(len(head)) + int64(len(`,"bundle":`)) + size + 1
}

// EncodedBytesLen is what n bytes take base64-encoded in a request, with
// the quotes.
func EncodedBytesLen(n int64) int64 { return base64Len(n) + 2 }

func base64Len(n int64) int64 {
	if n < 0 {
		return 0
	}
	return int64(base64.StdEncoding.EncodedLen(int(n)))
}
