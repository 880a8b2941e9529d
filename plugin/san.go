package plugin

import "encoding/asn1"

// countGeneralNames counts the entries of a SubjectAltName extension value; -1 if it
// does not parse (then Go's x509 parser would have refused the certificate anyway).
func countGeneralNames(value []byte) int {
	var seq asn1.RawValue
	if rest, err := asn1.Unmarshal(value, &seq); err != nil || len(rest) != 0 {
		return -1
	}
	n := 0
	for rest := seq.Bytes; len(rest) > 0; n++ {
		var v asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &v); err != nil {
			return -1
		}
	}
	return n
}
