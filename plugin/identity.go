package plugin

import (
	"fmt"
	"slices"
	"strings"
)

// matchIdentities returns the subject that satisfied the first matching identity,
// or a rejection that says why none matched.
func matchIdentities(ids []*identity, cert *certIdentity) (subject string, err error) {
	var misses []string
	for _, id := range ids {
		subject, miss := id.match(cert)
		if miss == "" {
			return subject, nil
		}
		misses = append(misses, string(id.path)+": "+miss)
	}
	return "", rejectf("certificate subject %s (issuer %s) matches no identity: %s",
		strings.Join(cert.subjects(), ", "), cert.issuer, strings.Join(misses, "; "))
}

// match checks every field of one identity; miss is empty on success.
func (id *identity) match(cert *certIdentity) (subject string, miss string) {
	switch {
	case id.issuerRegexp != nil:
		if !id.issuerRegexp.MatchString(cert.issuer) {
			return "", "issuer does not match issuerRegexp"
		}
	case cert.issuer != id.issuer:
		return "", fmt.Sprintf("issuer is not %s", id.issuer)
	}
	switch {
	case id.subjectEmail != "":
		if !slices.Contains(cert.emails, id.subjectEmail) {
			return "", fmt.Sprintf("no email SAN %s", id.subjectEmail)
		}
		subject = id.subjectEmail
	case id.subjectURI != "":
		if !slices.Contains(cert.uris, id.subjectURI) {
			return "", fmt.Sprintf("no URI SAN %s", id.subjectURI)
		}
		subject = id.subjectURI
	default:
		i := slices.IndexFunc(cert.subjects(), id.subjectRegexp.MatchString)
		if i < 0 {
			return "", "no SAN matches subjectRegexp"
		}
		subject = cert.subjects()[i]
	}
	for _, pin := range id.extensions {
		if got := pin.get(cert.extensions); got != pin.value {
			if got == "" {
				return "", fmt.Sprintf("certificate has no %s extension", pin.name)
			}
			return "", fmt.Sprintf("extension %s is %s, not %s", pin.name, got, pin.value)
		}
	}
	return subject, ""
}
