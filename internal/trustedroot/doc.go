// Package trustedroot keeps a Sigstore trusted_root.json current over TUF and
// describes what one trusts.
//
// Update refreshes a TUF repository with sigstore-go's pkg/tuf client (go-tuf v2
// does every TUF check: signatures and thresholds, root rotation, rollback,
// freeze, mix-and-match, target length and hashes), checks that the verified
// target is a trusted root the plugin can load, and replaces the output file
// atomically under a lock. Items lists the trust material with its validity
// windows; Diff says what changed between two roots, one line per item.
//
// Nothing here is on the verify path: the plugin reads the file and never fetches.
package trustedroot
