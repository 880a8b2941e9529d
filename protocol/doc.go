// Package protocol is the containers policy plugin protocol, v1alpha1: the messages a
// host (containers/image, or this project's check command) and a policy plugin
// exchange, strict decoding of them, the plugin side of one invocation (Serve), and
// the host side: finding, checking and running a plugin and believing its answer
// only after the checks of the specification.
//
// The package imports only the standard library so that containers/image can vendor
// it unchanged. The normative specification is containers-policy-plugin(5).
package protocol
