// Package check evaluates a whole policy.json for one image in a registry
// the way a plugin-aware podman would, and reports why.
//
//   - Scope: internal/policy's Lookup, which is containers/image's lookup
//     (identity, namespaces including *.example.com wildcards, the
//     transport's "" scope, the global default).
//   - Built-in requirements: containers/image itself, one requirement at a
//     time (signature.PolicyContext.IsRunningImageAllowed on a policy made of
//     that requirement alone), on the top-level image.
//   - Plugin configs: validate-config for every plugin requirement of the
//     policy, whatever the scope, as the patched containers/image
//     (upstream/containers-image) does when podman loads the policy; a broken
//     one is a SetupError.
//   - Plugin requirements: the plugin, through the protocol package's host,
//     with the VerifyRequest the patched containers/image sends: the
//     top-level manifest and every signature found for it (cosign .sig
//     attachments, then Sigstore-bundle referrers, both only where
//     registries.d's use-sigstore-attachments allows). No metadata call.
//
// All requirements of the scope must accept. Every one is evaluated, so that
// the report says what passed and what did not, not only the first failure.
//
// Multi-platform images: the policy is evaluated on the top-level manifest,
// the index when there is one, exactly as containers/image's copy does (and so
// podman pull, skopeo copy and bootc through skopeo's proxy): a pull then
// fetches the chosen instance by the digest the accepted index lists, which
// binds it. So an index signed at the top level (cosign's default) is
// accepted, and an image signed only per instance is not, as with podman.
// The report names the evaluated manifest and lists an index's instances.
package check
