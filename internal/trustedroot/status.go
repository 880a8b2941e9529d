package trustedroot

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// StatusSuffix names the status file update writes beside its output:
// /etc/containers/sigstore/trusted_root.json.tuf.json. It records which TUF
// timestamp last vouched for the file, so that lint can tell a file nobody has
// refreshed since that timestamp expired (a stopped timer, an unreachable
// mirror) from a current one, without any network access.
const StatusSuffix = ".tuf.json"

// Status is the content of the status file.
type Status struct {
	// Repository is the TUF repository the file came from.
	Repository string `json:"repository"`
	// TargetSHA256 is the hex SHA-256 of the file as written; a file replaced by
	// other means no longer matches, and its status says nothing about it.
	TargetSHA256 string `json:"targetSHA256"`
	// TimestampVersion and TimestampExpires are from the TUF timestamp metadata
	// of the last successful update: until then the file is known current.
	TimestampVersion int64     `json:"timestampVersion"`
	TimestampExpires time.Time `json:"timestampExpires"`
	// Checked is when that update ran.
	Checked time.Time `json:"checked"`
}

// StatusPath is the status file of an output file.
func StatusPath(output string) string { return output + StatusSuffix }

// ReadStatus reads the status file of output. It returns (nil, nil) when there
// is none: the file is not managed by update.
func ReadStatus(output string) (*Status, error) {
	data, err := os.ReadFile(StatusPath(output))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", StatusPath(output), err)
	}
	return &s, nil
}

// Describes reports whether s was written for exactly this content.
func (s *Status) Describes(content []byte) bool { return s.TargetSHA256 == sha256Hex(content) }

func writeStatus(output string, s *Status) error {
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(StatusPath(output), append(data, '\n'))
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
