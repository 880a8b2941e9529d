package policy

import (
	"strings"
	"testing"
)

func TestParseKeepsEveryRequirementWithItsPathAndBytes(t *testing.T) {
	const doc = `{
  "default": [{"type": "reject"}],
  "transports": {
    "docker": {
      "registry.example.com/team": [
        {"type": "plugin", "plugin": "sigstore", "config": {"trustedRootPath": "/etc/x.json"}},
        {"type": "insecureAcceptAnything"}
      ],
      "": [{"type": "reject"}]
    },
    "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}
  }
}`
	p, errs := Parse([]byte(doc))
	if len(errs) != 0 {
		t.Fatalf("Parse: %v", errs)
	}
	if len(p.Default.Requirements) != 1 || p.Default.Requirements[0].Path != "default[0]" || p.Default.Requirements[0].Type != "reject" {
		t.Errorf("default = %+v", p.Default)
	}
	s := p.Transports["docker"]["registry.example.com/team"]
	if s.Path != `transports.docker["registry.example.com/team"]` || len(s.Requirements) != 2 {
		t.Fatalf("scope = %+v", s)
	}
	plugin := s.Requirements[0]
	if !plugin.IsPlugin() || plugin.Plugin != "sigstore" || string(plugin.Config) != `{"trustedRootPath": "/etc/x.json"}` ||
		plugin.Path != `transports.docker["registry.example.com/team"][0]` {
		t.Errorf("plugin requirement = %+v", plugin)
	}
	if got := p.Transports["docker-daemon"][""].Path; got != `transports["docker-daemon"][""]` {
		t.Errorf("docker-daemon scope path = %s", got)
	}
}

// Scopes is containers/image's order for validating plugin configs at policy
// load (the default, then transports and their scopes sorted by name),
// whatever order the document has.
func TestScopesAreTheDefaultThenTransportsAndScopesSorted(t *testing.T) {
	const doc = `{
  "transports": {
    "docker": {"b.example": [{"type": "reject"}], "": [{"type": "reject"}], "a.example": [{"type": "reject"}]},
    "atomic": {"x.example": [{"type": "reject"}]}
  },
  "default": [{"type": "reject"}]
}`
	p, errs := Parse([]byte(doc))
	if len(errs) != 0 {
		t.Fatalf("Parse: %v", errs)
	}
	var got []string
	for _, s := range p.Scopes() {
		got = append(got, s.Path)
	}
	want := []string{"default", `transports.atomic["x.example"]`, `transports.docker[""]`, `transports.docker["a.example"]`, `transports.docker["b.example"]`}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("Scopes: %q, want %q", got, want)
	}
}

func TestParseReportsEveryProblemAtItsPath(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // "path: message substring", in order
	}{
		{
			"a duplicate key anywhere", `{"default":[{"type":"reject","type":"insecureAcceptAnything"}]}`,
			[]string{`default[0]: duplicate key "type"`},
		},
		{
			"data after the document", `{"default":[{"type":"reject"}]} {}`,
			[]string{`: trailing data`},
		},
		{
			"no default", `{"transports":{}}`,
			[]string{`: "default" is missing`},
		},
		{
			"an unknown top-level key", `{"default":[{"type":"reject"}],"defaults":[]}`,
			[]string{`: unknown field "defaults"`},
		},
		{
			"an empty requirements list", `{"default":[],"transports":{"docker":{"a.example/x":[]}}}`,
			[]string{`default: the list of requirements is empty`, `transports.docker["a.example/x"]: the list of requirements is empty`},
		},
		{
			"an unknown requirement type, in containers/image's words", `{"default":[{"type":"signedByAnyone"}]}`,
			[]string{`default[0]: containers/image: Unknown policy requirement type "signedByAnyone"`},
		},
		{
			"a broken built-in requirement, in containers/image's words", `{"default":[{"type":"signedBy","keyType":"GPGKeys"}]}`,
			[]string{`default[0]: containers/image: `},
		},
		{
			"a plugin requirement without a config", `{"default":[{"type":"plugin","plugin":"sigstore"}]}`,
			[]string{`default[0].config: is missing`},
		},
		{
			"a plugin requirement with a bad name", `{"default":[{"type":"plugin","plugin":"../bin/sh","config":{}}]}`,
			[]string{`default[0].plugin: invalid plugin name "../bin/sh"`},
		},
		{
			"a plugin requirement with an extra key", `{"default":[{"type":"plugin","plugin":"sigstore","config":{},"keyPath":"/k"}]}`,
			[]string{`default[0]: unknown field "keyPath" (a plugin requirement has exactly type, plugin and config)`},
		},
		{
			"a plugin config that is not an object", `{"default":[{"type":"plugin","plugin":"sigstore","config":"x"}]}`,
			[]string{`default[0].config: must be an object`},
		},
		{
			"a requirement without a type", `{"default":[{"plugin":"sigstore"}]}`,
			[]string{`default[0].type: must be a string`},
		},
		{
			"scopes that are not an object", `{"default":[{"type":"reject"}],"transports":{"docker":[]}}`,
			[]string{`transports.docker: must be an object`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := Parse([]byte(tt.doc))
			if len(errs) != len(tt.want) {
				t.Fatalf("Parse reported %q, want %d problems like %q", errs, len(tt.want), tt.want)
			}
			for i, want := range tt.want {
				if got := errs[i].Path + ": " + errs[i].Message; !strings.Contains(got, want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got, want)
				}
			}
		})
	}
}
