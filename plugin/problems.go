package plugin

import (
	"errors"
	"fmt"

	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// problems collects config errors and warnings, each message on one line (a
// message may quote a pattern or value from the config, control characters
// included, and lint prints one problem per line). Config parsing goes on after an error
// where the next part does not depend on it, so one validate-config run reports
// every independent mistake.
type problems struct {
	errors   []protocol.ConfigProblem
	warnings []protocol.ConfigProblem
}

func (p *problems) fail(path strictjson.Path, format string, args ...any) {
	p.errors = append(p.errors, protocol.ConfigProblem{Path: string(path), Message: oneLine(fmt.Sprintf(format, args...))})
}

func (p *problems) warn(path strictjson.Path, format string, args ...any) {
	p.warnings = append(p.warnings, protocol.ConfigProblem{Path: string(path), Message: oneLine(fmt.Sprintf(format, args...))})
}

// failErr records err, using its own path when it is a strictjson error.
func (p *problems) failErr(path strictjson.Path, err error) {
	var located *strictjson.Error
	if errors.As(err, &located) {
		p.fail(located.Path, "%s", located.Message)
		return
	}
	p.fail(path, "%v", err)
}

func (p *problems) ok() bool { return len(p.errors) == 0 }
