package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.podman.io/image/v5/signature"

	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// TypePlugin is the requirement type of a plugin requirement.
const TypePlugin = "plugin"

// Policy is a parsed policy.json.
type Policy struct {
	Default Scope
	// Transports maps a transport name to its scopes, by scope name ("" is
	// the transport's default).
	Transports map[string]map[string]Scope
}

// Scope is one list of requirements, all of which must pass.
type Scope struct {
	// Transport and Name locate it; both empty for the global default.
	Transport, Name string
	// Path is its JSON path: "default" or transports.docker["..."].
	Path         string
	Requirements []Requirement
}

// IsDefault says whether s is the global default.
func (s Scope) IsDefault() bool { return s.Path == DefaultPath }

// Scopes lists every scope of p in document order, which is also the order
// in which containers/image validates plugin configs when it loads a policy:
// the default, then the transports and each one's scopes, sorted by name.
func (p *Policy) Scopes() []Scope {
	list := []Scope{p.Default}
	for _, transport := range slices.Sorted(maps.Keys(p.Transports)) {
		for _, name := range slices.Sorted(maps.Keys(p.Transports[transport])) {
			list = append(list, p.Transports[transport][name])
		}
	}
	return list
}

// Requirement is one requirement, with its exact bytes.
type Requirement struct {
	Path string // e.g. transports.docker["registry.example.com/team"][0]
	Type string
	Raw  json.RawMessage
	// Plugin and Config are set for TypePlugin: the plugin's name and its
	// config, verbatim.
	Plugin string
	Config json.RawMessage
}

// IsPlugin says whether r is a plugin requirement.
func (r Requirement) IsPlugin() bool { return r.Type == TypePlugin }

// Problem is an error or warning at a JSON path.
type Problem struct {
	Path    string
	Message string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Message
	}
	return p.Path + ": " + p.Message
}

// Parse parses policy.json. It reports every problem it can find rather than
// the first; the Policy is usable only when errs is empty. Built-in
// requirements are checked by containers/image's parser, one at a time;
// plugin requirements only for shape (their config is the plugin's to
// validate).
func Parse(data []byte) (p *Policy, errs []Problem) {
	root, err := strictjson.Parse(data, "")
	if err != nil {
		return nil, []Problem{locate(data, err)}
	}
	p = &Policy{Transports: map[string]map[string]Scope{}}
	var ps problems
	if raw, ok := root.Raw("default"); ok {
		p.Default = parseScope(&ps, "", "", DefaultPath, raw)
	} else {
		ps.add("", `"default" is missing: containers/image requires it`)
	}
	if raw, ok := root.Raw("transports"); ok {
		parseTransports(&ps, p, raw)
	}
	if err := root.Close(); err != nil {
		ps.addStrict(err)
	}
	return p, ps
}

type problems []Problem

func (ps *problems) add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (ps *problems) addStrict(err error) { *ps = append(*ps, fromStrict(err)) }

// fromStrict turns a strictjson error into a Problem. strictjson writes
// object keys with dots; policy paths quote scopes, so only the top levels,
// which strictjson reaches, come from it.
func fromStrict(err error) Problem {
	if se := (*strictjson.Error)(nil); errors.As(err, &se) {
		return Problem{Path: string(se.Path), Message: se.Message}
	}
	return Problem{Message: err.Error()}
}

func parseTransports(ps *problems, p *Policy, raw json.RawMessage) {
	obj, err := strictjson.NewObject("transports", raw)
	if err != nil {
		ps.addStrict(err)
		return
	}
	for _, transport := range sortedKeys(raw) {
		rawScopes, _ := obj.Raw(transport)
		tpath := TransportPath(transport)
		scopesObj, err := strictjson.NewObject(strictjson.Path(tpath), rawScopes)
		if err != nil {
			ps.add(tpath, "must be an object mapping scopes to requirement lists")
			continue
		}
		scopes := map[string]Scope{}
		for _, name := range sortedKeys(rawScopes) {
			rawReqs, _ := scopesObj.Raw(name)
			scopes[name] = parseScope(ps, transport, name, ScopePath(transport, name), rawReqs)
		}
		p.Transports[transport] = scopes
	}
}

// sortedKeys lists the keys of a JSON object (already validated) in sorted
// order, so that reports are stable.
func sortedKeys(raw json.RawMessage) []string {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(raw, &m)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func parseScope(ps *problems, transport, name, path string, raw json.RawMessage) Scope {
	s := Scope{Transport: transport, Name: name, Path: path}
	elems, err := strictjson.Array(strictjson.Path(path), raw)
	if err != nil {
		ps.add(path, "must be a list of requirements")
		return s
	}
	if len(elems) == 0 {
		ps.add(path, "the list of requirements is empty; containers/image refuses the whole policy (use [{\"type\": \"reject\"}] to refuse images)")
	}
	for i, elem := range elems {
		if r, ok := parseRequirement(ps, indexPath(path, i), elem); ok {
			s.Requirements = append(s.Requirements, r)
		}
	}
	return s
}

func parseRequirement(ps *problems, path string, raw json.RawMessage) (Requirement, bool) {
	r := Requirement{Path: path, Raw: raw}
	obj, err := strictjson.NewObject(strictjson.Path(path), raw)
	if err != nil {
		ps.add(path, "must be an object")
		return r, false
	}
	typ, present, err := obj.String("type")
	if err != nil || !present {
		ps.add(path+".type", "must be a string naming the requirement type")
		return r, false
	}
	r.Type = typ
	if typ != TypePlugin {
		if err := checkBuiltin(raw); err != nil {
			ps.add(path, "%s", err)
			return r, false
		}
		return r, true
	}
	ok := true
	name, present, err := obj.String("plugin")
	switch {
	case err != nil || !present:
		ps.add(path+".plugin", "must be a string naming the plugin")
		ok = false
	default:
		if err := protocol.ValidatePluginName(name); err != nil {
			ps.add(path+".plugin", "%s", err)
			ok = false
		}
	}
	r.Plugin = name
	config, present := obj.Raw("config")
	if !present {
		ps.add(path+".config", "is missing: a plugin requirement passes its config to the plugin")
		ok = false
	} else if _, err := strictjson.NewObject(strictjson.Path(path+".config"), config); err != nil {
		ps.add(path+".config", "must be an object")
		ok = false
	}
	r.Config = config
	if err := obj.Close(); err != nil {
		ps.add(path, "%s (a plugin requirement has exactly type, plugin and config)", fromStrict(err).Message)
		ok = false
	}
	return r, ok
}

// BuiltinPolicy is one built-in requirement alone in a policy, parsed by
// containers/image: how lint checks it (its error is containers/image's own)
// and check evaluates it (containers/image stops at the first failure, and
// check reports every requirement's outcome).
func BuiltinPolicy(raw json.RawMessage) (*signature.Policy, error) {
	doc := append(append([]byte(`{"default":[`), raw...), "]}"...)
	return signature.NewPolicyFromBytes(doc)
}

// checkBuiltin parses one built-in requirement with containers/image, alone
// in a minimal policy, so that its error is containers/image's own.
func checkBuiltin(raw json.RawMessage) error {
	if _, err := BuiltinPolicy(raw); err != nil {
		return fmt.Errorf("containers/image: %s", strings.TrimPrefix(err.Error(), "invalid policy in \"\": "))
	}
	return nil
}

// locate restates a document-level error (a duplicate key, too deep nesting)
// found inside a requirement with the requirement's path: strictjson joins
// keys with dots, which scopes like "registry.example.com/team" make
// unreadable. Errors above the requirements keep strictjson's path.
func locate(data []byte, err error) Problem {
	var doc struct {
		Default    []json.RawMessage                       `json:"default"`
		Transports map[string]map[string][]json.RawMessage `json:"transports"`
	}
	if json.Unmarshal(data, &doc) != nil {
		return fromStrict(err)
	}
	lists := map[string][]json.RawMessage{DefaultPath: doc.Default}
	for transport, scopes := range doc.Transports {
		for name, reqs := range scopes {
			lists[ScopePath(transport, name)] = reqs
		}
	}
	for _, path := range sortedKeys(mustMarshal(lists)) {
		for i, req := range lists[path] {
			if rerr := strictjson.Validate(req, strictjson.Path(indexPath(path, i))); rerr != nil {
				return fromStrict(rerr)
			}
		}
	}
	return fromStrict(err)
}

func mustMarshal(v any) json.RawMessage {
	data, _ := json.Marshal(v)
	return data
}
