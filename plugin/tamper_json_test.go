package plugin

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// jsonNode is a JSON document that keeps member order and can hold duplicate
// keys, so the tamper matrix can alter one value of a real signature and write
// everything else back byte for byte in its original order.
type jsonNode struct {
	kind   byte // '{', '[', or 0 for a scalar
	keys   []string
	vals   []*jsonNode // members of an object, elements of an array
	scalar json.RawMessage
}

func parseJSONNode(data []byte) (*jsonNode, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	n, err := decodeJSONNode(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data")
	}
	return n, nil
}

func decodeJSONNode(dec *json.Decoder) (*jsonNode, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch v := tok.(type) {
	case json.Delim:
		n := &jsonNode{kind: byte(v)}
		for dec.More() {
			if n.kind == '{' {
				key, err := dec.Token()
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key.(string))
			}
			child, err := decodeJSONNode(dec)
			if err != nil {
				return nil, err
			}
			n.vals = append(n.vals, child)
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return nil, err
		}
		return n, nil
	case json.Number:
		return &jsonNode{scalar: json.RawMessage(v.String())}, nil
	default:
		raw, err := json.Marshal(v)
		return &jsonNode{scalar: raw}, err
	}
}

func (n *jsonNode) encode() []byte {
	var buf bytes.Buffer
	n.write(&buf)
	return buf.Bytes()
}

func (n *jsonNode) write(buf *bytes.Buffer) {
	switch n.kind {
	case '{', '[':
		buf.WriteByte(n.kind)
		for i, v := range n.vals {
			if i > 0 {
				buf.WriteByte(',')
			}
			if n.kind == '{' {
				key, _ := json.Marshal(n.keys[i])
				buf.Write(key)
				buf.WriteByte(':')
			}
			v.write(buf)
		}
		if n.kind == '{' {
			buf.WriteByte('}')
		} else {
			buf.WriteByte(']')
		}
	default:
		buf.Write(n.scalar)
	}
}

func (n *jsonNode) clone() *jsonNode {
	c := &jsonNode{kind: n.kind, keys: append([]string(nil), n.keys...), scalar: n.scalar}
	for _, v := range n.vals {
		c.vals = append(c.vals, v.clone())
	}
	return c
}

// jsonPlace is where a value sits: the route of child indexes from the root and
// a readable path.
type jsonPlace struct {
	route []int
	path  string
}

// places lists every value below n (not n itself), parents before children.
func (n *jsonNode) places(prefix jsonPlace) []jsonPlace {
	var out []jsonPlace
	for i, v := range n.vals {
		p := jsonPlace{route: append(append([]int(nil), prefix.route...), i)}
		if n.kind == '{' {
			p.path = prefix.path + "." + n.keys[i]
		} else {
			p.path = prefix.path + "[" + strconv.Itoa(i) + "]"
		}
		out = append(out, p)
		out = append(out, v.places(p)...)
	}
	return out
}

// at returns the parent of the value at route and the value's index in it.
func (n *jsonNode) at(route []int) (parent *jsonNode, index int) {
	parent = n
	for _, i := range route[:len(route)-1] {
		parent = parent.vals[i]
	}
	return parent, route[len(route)-1]
}

// find returns the value at a readable path, or nil.
func (n *jsonNode) find(path string) *jsonNode {
	for _, p := range n.places(jsonPlace{}) {
		if p.path == path {
			parent, i := n.at(p.route)
			return parent.vals[i]
		}
	}
	return nil
}

func (n *jsonNode) stringValue() (string, bool) {
	var s string
	if n.kind != 0 || json.Unmarshal(n.scalar, &s) != nil {
		return "", false
	}
	return s, true
}

func stringNode(s string) *jsonNode {
	raw, _ := json.Marshal(s)
	return &jsonNode{scalar: raw}
}

// jsonMutation is one altered document.
type jsonMutation struct {
	field string // the kind of alteration, for counting
	name  string // what exactly was altered
	doc   []byte
}

// mutateJSON alters every value of doc in turn: bit flips in the bytes a hex or
// base64 string holds and in other strings, truncations, other
// numbers, empty values, each member dropped, each member duplicated (with the
// same value and with another), each array element duplicated, and each value
// swapped with the value at the same path in other (a second valid document),
// where the two differ. keep(path) says which values to alter at all; each
// value gets at most about maxFlips bit flips, spread evenly over its bytes.
func mutateJSON(doc, other []byte, maxFlips int, keep func(path string) bool) ([]jsonMutation, error) {
	root, err := parseJSONNode(doc)
	if err != nil {
		return nil, err
	}
	var otherRoot *jsonNode
	if other != nil {
		if otherRoot, err = parseJSONNode(other); err != nil {
			return nil, err
		}
	}
	var out []jsonMutation
	emit := func(field, name string, route []int, change func(parent *jsonNode, i int)) {
		c := root.clone()
		parent, i := c.at(route)
		change(parent, i)
		out = append(out, jsonMutation{field: field, name: name, doc: c.encode()})
	}
	replace := func(field, name string, route []int, v *jsonNode) {
		emit(field, name, route, func(parent *jsonNode, i int) { parent.vals[i] = v })
	}
	for _, p := range root.places(jsonPlace{}) {
		if keep != nil && !keep(p.path) {
			continue
		}
		parent, i := root.at(p.route)
		v := parent.vals[i]
		field := fieldName(p.path)

		// Structure: drop, duplicate, swap.
		if parent.kind == '{' {
			emit(field+" dropped", p.path+" dropped", p.route, func(parent *jsonNode, i int) {
				parent.keys = append(parent.keys[:i:i], parent.keys[i+1:]...)
				parent.vals = append(parent.vals[:i:i], parent.vals[i+1:]...)
			})
			emit("duplicate keys", p.path+" duplicated", p.route, func(parent *jsonNode, i int) {
				parent.keys = append(parent.keys[:i+1:i+1], parent.keys[i:]...)
				parent.vals = append(parent.vals[:i+1:i+1], append([]*jsonNode{parent.vals[i].clone()}, parent.vals[i+1:]...)...)
			})
		} else {
			emit("duplicate entries", p.path+" duplicated", p.route, func(parent *jsonNode, i int) {
				parent.vals = append(parent.vals[:i+1:i+1], append([]*jsonNode{parent.vals[i].clone()}, parent.vals[i+1:]...)...)
			})
		}
		if otherRoot != nil {
			if o := otherRoot.find(p.path); o != nil && !bytes.Equal(o.encode(), v.encode()) {
				replace("swapped with another signature", p.path+" swapped", p.route, o.clone())
				if parent.kind == '{' {
					for _, first := range []bool{true, false} {
						emit("duplicate keys", fmt.Sprintf("%s duplicated with the other signature's value (first=%v)", p.path, first), p.route, func(parent *jsonNode, i int) {
							a, b := parent.vals[i], o.clone()
							if first {
								a, b = b, a
							}
							parent.keys = append(parent.keys[:i+1:i+1], parent.keys[i:]...)
							parent.vals = append(parent.vals[:i:i], append([]*jsonNode{a, b}, parent.vals[i+1:]...)...)
						})
					}
				}
			}
		}
		if v.kind != 0 {
			replace(field+" type", p.path+" replaced by null", p.route, &jsonNode{scalar: json.RawMessage("null")})
			continue
		}

		// Scalars.
		s, isString := v.stringValue()
		if !isString {
			for _, alt := range numberVariants(string(v.scalar)) {
				replace(field, p.path+" = "+alt, p.route, &jsonNode{scalar: json.RawMessage(alt)})
			}
			continue
		}
		replace(field, p.path+" emptied", p.route, stringNode(""))
		replace(field+" type", p.path+" replaced by null", p.route, &jsonNode{scalar: json.RawMessage("null")})
		if n, err := strconv.ParseInt(s, 10, 64); err == nil { // protojson's int64
			for _, alt := range []int64{n + 1, n - 1, 0, -1, 1 << 62} {
				if alt != n {
					replace(field, fmt.Sprintf("%s = %d", p.path, alt), p.route, stringNode(strconv.FormatInt(alt, 10)))
				}
			}
			continue
		}
		if raw, err := hex.DecodeString(s); err == nil && len(raw) >= 8 { // a log ID
			for _, j := range flipPositions(len(raw), flipStride(len(raw), maxFlips)) {
				b := flipBit(raw, j)
				replace(field, fmt.Sprintf("%s bit %d of byte %d flipped", p.path, j%8, j/8), p.route, stringNode(hex.EncodeToString(b)))
			}
			for _, n := range truncations(len(raw)) {
				replace("truncation", fmt.Sprintf("%s truncated to %d bytes", p.path, n), p.route, stringNode(hex.EncodeToString(raw[:n])))
			}
			continue
		}
		if raw, err := base64.StdEncoding.Strict().DecodeString(s); err == nil && len(raw) > 0 && len(s) >= 8 {
			enc := base64.StdEncoding.EncodeToString
			for _, j := range flipPositions(len(raw), flipStride(len(raw), maxFlips)) {
				b := flipBit(raw, j)
				replace(field, fmt.Sprintf("%s bit %d of byte %d flipped", p.path, j%8, j/8), p.route, stringNode(enc(b)))
			}
			for _, n := range truncations(len(raw)) {
				replace("truncation", fmt.Sprintf("%s truncated to %d bytes", p.path, n), p.route, stringNode(enc(raw[:n])))
			}
			continue
		}
		for _, j := range flipPositions(len(s), flipStride(len(s), maxFlips)) {
			replace(field, fmt.Sprintf("%s bit %d of byte %d flipped", p.path, j%8, j/8), p.route, stringNode(string(flipBit([]byte(s), j))))
		}
		for _, n := range truncations(len(s)) {
			replace("truncation", fmt.Sprintf("%s truncated to %d bytes", p.path, n), p.route, stringNode(s[:n]))
		}
	}
	return out, nil
}

// fieldName names a path's field for the counts: its last key, without indexes.
func fieldName(path string) string {
	last := path[strings.LastIndex(path, ".")+1:]
	if i := strings.Index(last, "["); i >= 0 {
		last = last[:i]
	}
	return last
}

func numberVariants(n string) []string {
	v, err := strconv.ParseInt(n, 10, 64)
	if err != nil {
		return []string{"0", "-1", `"` + n + `"`}
	}
	var out []string
	for _, alt := range []int64{v + 1, v - 1, v + 3600, 0, -1, 1 << 62} {
		if alt != v {
			out = append(out, strconv.FormatInt(alt, 10))
		}
	}
	return append(out, n+".5", `"`+n+`"`, "9223372036854775808", "1e3")
}

// flipStride spreads at most about maxFlips flips evenly over n bytes.
func flipStride(n, maxFlips int) int {
	return max(1, (n+maxFlips-1)/maxFlips)
}

// flipPositions are the bit positions a flip test alters in n bytes: one bit in
// every stride-th byte (bit index rotating), so each byte is altered once when
// stride is 1.
func flipPositions(n, stride int) []int {
	var out []int
	for i := 0; i < n; i += stride {
		out = append(out, i*8+i%8)
	}
	return out
}

// flipBit returns a copy of b with bit pos (byte pos/8, bit pos%8) inverted.
func flipBit(b []byte, pos int) []byte {
	c := append([]byte(nil), b...)
	c[pos/8] ^= 1 << (pos % 8)
	return c
}

func truncations(n int) []int {
	var out []int
	for _, l := range []int{0, 1, n / 2, n - 1} {
		if l >= 0 && l < n && (len(out) == 0 || out[len(out)-1] != l) {
			out = append(out, l)
		}
	}
	return out
}
