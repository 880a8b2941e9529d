package protocol

// Exit statuses of a plugin process. Both sides use them: a plugin exits with
// them (Serve), a host reads stdout by them; apart from serve.go so that a host
// copy can leave the plugin side out.
const (
	ExitOK    = 0 // stdout holds the command's response
	ExitError = 1 // stdout holds an Error object
)
