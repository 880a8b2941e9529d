// Package check evaluates a whole policy.json for one image in a registry
// the way a plugin-aware podman would, and reports why.
//
//   - Scope: internal/policy's Lookup, which is containers/image's lookup
//     (identity, namespaces including *.example.com wildcards, the
//     transport's "" scope, the global default).
//   - What is evaluated: what podman pull evaluates. A single manifest
//     itself (also an instance named by its digest: nothing links it to an
//     index). For a manifest list or image index, the instance
//     manifest.List.ChooseInstance picks for the platform (this machine's,
//     or podman's --platform), no match being an error as for podman; with
//     Platform.All every instance, as skopeo copy --all copies them.
//   - Built-in requirements: containers/image itself, one requirement at a
//     time (signature.PolicyContext.IsRunningImageAllowed on a policy made of
//     that requirement alone), on the evaluated image: an instance alone,
//     as copy.Image evaluates it, never seeing its index's signatures.
//   - Plugin requirements: the plugin, through the protocol package's host,
//     with the VerifyRequest the patched containers/image sends: the
//     evaluated manifest and every signature found for it (cosign .sig
//     attachments, then Sigstore-bundle referrers, both only where
//     registries.d's use-sigstore-attachments allows) and, for an instance
//     chosen from an index, the index and its signatures (image.index), so
//     that a signature of the index counts for the instances it lists. No
//     metadata call, and no validate-config: verify carries the config, and
//     an INVALID_CONFIG answer (or a plugin that cannot be run) is a
//     SetupError, for this scope only. Options.Lint validates every config
//     of the policy, as warnings.
//
// All requirements of the scope must accept, on every evaluated image.
// Every one is evaluated, so that the report says what passed and what did
// not, not only the first failure.
package check
