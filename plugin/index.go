package plugin

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/opencontainers/go-digest"
	"go.podman.io/image/v5/manifest"

	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// indexContext is what an evaluation of an index's signatures adds to the
// evaluation of an image's: the instance the index must list. Its signatures
// are decided by the very code that decides an instance's (evaluation.decide),
// with the index's bytes and digest in place of the instance's; a signature
// that passes all of that counts for the instance only if listsInstance does.
type indexContext struct {
	// instance is the digest the plugin computed for image.manifest.
	instance digest.Digest
	// listed is listsInstance's answer once it was asked: a function of the
	// index's bytes, which are the same for every signature of the index.
	listed *error
}

// listsInstance is the last step for a signature of the index (the package
// documentation's step 6): called only once a signature of e.image.Manifest,
// the index, verified and was bound to its digest, so the bytes it reads
// are the ones that signature authenticates. They must be a manifest list or
// image index by their own media type, read by containers/image's list parser
// (manifest.ListFromBlob) after the project's strict JSON rules, and list the
// instance's sha256 directly: exactly the digest the plugin computed, as
// manifests[].digest. A list the index names is not followed (a signature of a
// list authenticates what it names, not what those name), and another
// spelling of the digest (upper case, sha512) is another string, as it is for
// containers/image's instance lookup.
func (e *evaluation) listsInstance() error {
	if e.index.listed == nil {
		err := readListing(e.image.Manifest, e.manifestDigest, e.index.instance)
		e.index.listed = &err
	}
	return *e.index.listed
}

func readListing(verifiedIndex []byte, indexDigest, instance digest.Digest) error {
	if err := strictjson.ValidateText(verifiedIndex, "index"); err != nil {
		return rejectBecause(err, fmt.Sprintf("the signed index %s breaks the JSON rules: %v", indexDigest, err))
	}
	if err := caseFoldCollisions(verifiedIndex); err != nil {
		return rejectBecause(err, fmt.Sprintf("the signed index %s is ambiguous: %v", indexDigest, err))
	}
	mimeType := manifest.GuessMIMEType(verifiedIndex)
	if !manifest.MIMETypeIsMultiImage(mimeType) {
		if mimeType == "" {
			mimeType = "of no known manifest type"
		}
		return rejectf("the signed index %s is not a manifest list or image index: by its own media type it is %s", indexDigest, mimeType)
	}
	list, err := manifest.ListFromBlob(verifiedIndex, mimeType)
	if err != nil {
		return rejectBecause(err, fmt.Sprintf("the signed index %s is not a valid %s: %v", indexDigest, mimeType, err))
	}
	for _, listed := range list.Instances() {
		if listed.String() == instance.String() {
			return nil
		}
	}
	return rejectf("the signed index %s does not list this instance (%s)", indexDigest, instance)
}

// caseFoldCollisions refuses an index with two keys encoding/json would take
// for one field (it matches keys case-insensitively, and keeps the last): at
// its top level and in each entry of its manifests. Exact duplicates are
// strictjson's; these are the ones it cannot see.
func caseFoldCollisions(verifiedIndex []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(verifiedIndex, &top); err != nil {
		return nil // not an object: GuessMIMEType and ListFromBlob say so
	}
	if err := collision("", top); err != nil {
		return err
	}
	for key, raw := range top {
		if !strings.EqualFold(key, "manifests") {
			continue
		}
		var entries []map[string]json.RawMessage
		if json.Unmarshal(raw, &entries) != nil {
			continue // not a list of objects: ListFromBlob says so
		}
		for i, entry := range entries {
			if err := collision(fmt.Sprintf("%s[%d]", key, i), entry); err != nil {
				return err
			}
		}
	}
	return nil
}

func collision(path string, object map[string]json.RawMessage) error {
	seen := make(map[string]string, len(object))
	for key := range object {
		folded := foldName(key)
		if other, ok := seen[folded]; ok {
			if path == "" {
				path = "(root)"
			}
			return fmt.Errorf("%s: keys %q and %q name the same field", path, min(key, other), max(key, other))
		}
		seen[folded] = key
	}
	return nil
}

// foldName is encoding/json's key folding (its fold.go): two keys fold alike
// exactly when bytes.EqualFold says they are equal.
func foldName(key string) string {
	var out strings.Builder
	for _, r := range key {
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				r = next
				break
			}
			r = next
		}
		out.WriteRune(r)
	}
	return out.String()
}
