package plugin

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"slices"

	"github.com/policy-plugins/sigstore/protocol"
)

// copies remembers the rejections of one evaluation by the exact bytes of the
// signature entry, so that a request repeating a signature (a thousand copies
// of one signature with a valid SET cost a thousand verifications) pays for it
// once. The verdict of a signature is a function of its entry, the config and
// the image, which are the same for every entry of a request; only rejections
// are remembered, since an accepted signature ends the evaluation.
type copies struct {
	seen map[[sha256.Size]byte]outcome
	// waiting holds the entries decided again later (evaluation.decide), with
	// how many chain certificates they wait for.
	waiting map[[sha256.Size]byte]int
}

func newCopies() *copies {
	return &copies{seen: map[[sha256.Size]byte]outcome{}, waiting: map[[sha256.Size]byte]int{}}
}

func (c *copies) rejected(sig *protocol.Signature) (outcome, bool) {
	out, ok := c.seen[entryKey(sig)]
	return out, ok
}

func (c *copies) remember(sig *protocol.Signature, out outcome) {
	if out.accepted == nil {
		c.seen[entryKey(sig)] = out
	}
}

func (c *copies) waitingFor(sig *protocol.Signature) int {
	return c.waiting[entryKey(sig)]
}

func (c *copies) wait(sig *protocol.Signature, withheld int) {
	c.waiting[entryKey(sig)] = withheld
}

// entryKey hashes every field of an entry, each length-prefixed so that no two
// different entries encode alike; annotations in key order.
func entryKey(sig *protocol.Signature) [sha256.Size]byte {
	h := sha256.New()
	field := func(h hash.Hash, b []byte) {
		_ = binary.Write(h, binary.BigEndian, uint64(len(b)))
		h.Write(b)
	}
	unknown := byte(0)
	if sig.Unknown {
		unknown = 1
	}
	h.Write([]byte{unknown})
	field(h, []byte(sig.Format))
	field(h, []byte(sig.MIMEType))
	field(h, sig.Payload)
	field(h, []byte(sig.MediaType))
	field(h, sig.Bundle)
	keys := make([]string, 0, len(sig.Annotations))
	for k := range sig.Annotations {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	_ = binary.Write(h, binary.BigEndian, uint64(len(keys)))
	for _, k := range keys {
		field(h, []byte(k))
		field(h, []byte(sig.Annotations[k]))
	}
	var key [sha256.Size]byte
	h.Sum(key[:0])
	return key
}
