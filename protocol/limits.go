package protocol

import "time"

// Limits a host enforces. A plugin should stay far inside them.
const (
	MaxRequestBytes = 64 << 20
	MaxStdoutBytes  = 1 << 20
	MaxStderrBytes  = 64 << 10
	DefaultTimeout  = 30 * time.Second
	// MaxSignatures is the most signature entries a request carries,
	// signatures and image.index.signatures together. A host leaves out the
	// entries past it (and logs that); DecodeVerifyRequest refuses a request
	// with more.
	MaxSignatures = 1000
)
