package protocol

import "time"

// Limits a host enforces. A plugin should stay far inside them.
const (
	MaxRequestBytes = 64 << 20
	MaxStdoutBytes  = 1 << 20
	MaxStderrBytes  = 64 << 10
	DefaultTimeout  = 30 * time.Second
)
