// Package lint checks a policy.json the way a plugin-aware host would when
// loading it, and adds warnings about policies that load but probably do not
// say what their author meant.
//
// Errors: everything internal/policy reports (strict JSON, the document's
// shape, built-in requirements through containers/image's own parser, plugin
// requirements' shape) and every error a plugin's validate-config reports for
// its config. Warnings: the plugin's own (regexps, digestOnly without pins,
// ...) and the policy-level ones of warnings.go, which no single requirement
// can see.
package lint
