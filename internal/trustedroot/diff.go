package trustedroot

import "fmt"

// Diff says what changed from old to next, one line per item: added, removed
// (a log or authority retired from the root), or its validity window changed
// (Sigstore retires a log by ending its window). old may be nil: a first
// install lists everything as added.
func Diff(old, next []Item) []string {
	type key struct {
		kind Kind
		id   string
	}
	before := map[key]Item{}
	for _, it := range old {
		before[key{it.Kind, it.ID}] = it
	}
	after := map[key]bool{}
	var lines []string
	for _, it := range next {
		k := key{it.Kind, it.ID}
		after[k] = true
		was, ok := before[k]
		switch {
		case !ok:
			lines = append(lines, fmt.Sprintf("%s added: %s (%s) valid %s", it.Kind, it.Name, short(it.ID), it.Window()))
		case !was.Start.Equal(it.Start) || !was.End.Equal(it.End):
			lines = append(lines, fmt.Sprintf("%s validity changed: %s (%s) %s -> %s", it.Kind, it.Name, short(it.ID), was.Window(), it.Window()))
		}
	}
	for _, it := range old {
		if !after[key{it.Kind, it.ID}] {
			lines = append(lines, fmt.Sprintf("%s removed: %s (%s) was valid %s", it.Kind, it.Name, short(it.ID), it.Window()))
		}
	}
	return lines
}

// short is enough of an ID to tell items apart in a journal line.
func short(id string) string {
	if len(id) > 16 {
		return id[:16]
	}
	return id
}
