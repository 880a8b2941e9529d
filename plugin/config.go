package plugin

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/policy-plugins/sigstore/protocol"
	"github.com/policy-plugins/sigstore/protocol/strictjson"
)

// configPath is where the config sits in both requests, so problems read
// config.identities[0].subjectRegexp.
const configPath strictjson.Path = "config"

// Predicate types and formats the config accepts by default.
const cosignSignPredicate = "https://sigstore.dev/cosign/sign/v1"

// Config is a validated sigstore requirement with its trust material loaded, ready
// to evaluate any number of signatures.
type Config struct {
	trust          *trust
	identities     []*identity // empty exactly in key mode
	signedIdentity signedIdentity
	predicateTypes []string
	formats        map[string]bool
	requireSCT     bool
}

// ParseConfig validates raw, the requirement's config, and loads every file it
// names. The config is usable exactly when errs is empty. The document rules
// (duplicate keys, well-formed strings) are checked here too, not left to the
// request decoder: ParseConfig is also called in-process, where nothing did.
func ParseConfig(raw json.RawMessage) (cfg *Config, errs, warnings []protocol.ConfigProblem) {
	var p problems
	cfg = parseConfig(&p, raw)
	if !p.ok() {
		return nil, p.errors, p.warnings
	}
	return cfg, nil, p.warnings
}

func parseConfig(p *problems, raw json.RawMessage) *Config {
	obj, err := strictjson.ParseText(raw, configPath)
	if err != nil {
		p.failErr(configPath, err)
		return nil
	}
	cfg := &Config{}

	var fulcio *strictjson.Object
	if rawFulcio, ok := obj.Raw("fulcio"); ok {
		if fulcio, err = strictjson.NewObject(configPath.Key("fulcio"), rawFulcio); err != nil {
			p.failErr(configPath.Key("fulcio"), err)
		}
	}
	cfg.trust = parseTrust(p, obj, fulcio)
	cfg.identities = parseIdentities(p, obj, fulcio, cfg.trust)
	if fulcio != nil {
		if err := fulcio.Close(); err != nil {
			p.failErr(fulcio.Path, err)
		}
	}
	cfg.signedIdentity = parseSignedIdentity(p, obj)
	cfg.predicateTypes = parsePredicateTypes(p, obj)
	cfg.formats = parseFormats(p, obj)
	cfg.requireSCT = parseRequireSCT(p, obj, cfg.trust)
	if err := obj.Close(); err != nil {
		p.failErr(configPath, err)
	}
	if cfg.signedIdentity.kind == signedIdentityDigestOnly && len(cfg.identities) > 0 && !cfg.anyIdentityPinsRepository() {
		p.warn(configPath.Key("signedIdentity"),
			"digestOnly accepts a signature for any image with this digest; pin the source repository in the identities (extensions.sourceRepositoryURI or an exact subject) so one signer cannot vouch for another project's images")
	}
	lintDigestOnlyWorkflows(p, cfg)
	return cfg
}

func parsePredicateTypes(p *problems, obj *strictjson.Object) []string {
	raw, ok := obj.Raw("predicateTypes")
	if !ok {
		return []string{cosignSignPredicate}
	}
	path := configPath.Key("predicateTypes")
	types, err := strictjson.StringArray(path, raw)
	if err != nil {
		p.failErr(path, err)
		return nil
	}
	if len(types) == 0 {
		p.fail(path, "must list at least one predicate type")
	}
	for i, t := range types {
		if t == "" {
			p.fail(path.Index(i), "must not be empty")
		}
	}
	return types
}

func parseFormats(p *problems, obj *strictjson.Object) map[string]bool {
	all := map[string]bool{protocol.FormatSigstoreJSON: true, protocol.FormatSigstoreBundle: true}
	raw, ok := obj.Raw("signatureFormats")
	if !ok {
		return all
	}
	path := configPath.Key("signatureFormats")
	names, err := strictjson.StringArray(path, raw)
	if err != nil {
		p.failErr(path, err)
		return nil
	}
	if len(names) == 0 {
		p.fail(path, "must list at least one format (%s)", strings.Join(SignatureFormats(), ", "))
	}
	formats := map[string]bool{}
	for i, name := range names {
		switch {
		case !all[name]:
			p.fail(path.Index(i), "unknown signature format %q (known: %s)", name, strings.Join(SignatureFormats(), ", "))
		case formats[name]:
			p.fail(path.Index(i), "format %q is listed twice", name)
		}
		formats[name] = true
	}
	return formats
}

func parseRequireSCT(p *problems, obj *strictjson.Object, t *trust) bool {
	path := configPath.Key("requireSCT")
	value, present, err := obj.Bool("requireSCT")
	if err != nil {
		p.failErr(path, err)
		return false
	}
	if t == nil {
		return value
	}
	if !present {
		// A trusted_root.json lists CT logs and Fulcio embeds SCTs, so checking them
		// costs nothing and catches a mis-issued certificate. The containers/image
		// style has no CT log keys to check with (parity with sigstoreSigned).
		return t.hasCTLogs()
	}
	if value && t.keys != nil {
		p.fail(path, "key signatures carry no certificate, so there is no SCT to require")
	}
	lintRequireSCT(p, path, present, value, t)
	if value && !t.hasCTLogs() {
		p.fail(path, "is true but the trust material lists no CT log to verify an SCT with (use trustedRootPath)")
	}
	return value
}

func (c *Config) anyIdentityPinsRepository() bool {
	for _, id := range c.identities {
		if id.pinsRepository() {
			return true
		}
	}
	return false
}

// describeSources names the mutually exclusive keys of one config choice.
func describeSources(keys ...string) string {
	return fmt.Sprintf("exactly one of %s", strings.Join(keys, ", "))
}
