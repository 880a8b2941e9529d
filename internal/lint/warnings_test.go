package lint

import "testing"

func TestDockerScopeNeverMatches(t *testing.T) {
	for _, scope := range []string{
		"registry.example.com", "registry.example.com:5000", "localhost", "127.0.0.1:5000/team",
		"registry.example.com/team", "registry.example.com/team/app:1.4", "docker.io/library/busybox",
		"quay.io/x/y@sha256:0489474da8ea22426ece86ace6c1c0026ab2fd3cdfbbd62b7e94650266c37d9a", "*.example.com",
	} {
		if msg := dockerScopeNeverMatches(scope); msg != "" {
			t.Errorf("scope %q can match, but lint says: %s", scope, msg)
		}
	}
	for _, scope := range []string{"busybox", "library/busybox", "team/app", "*.", "*.example.com/team", "https://registry.example.com/team", "Registry.example.com/Team"} {
		if msg := dockerScopeNeverMatches(scope); msg == "" {
			t.Errorf("scope %q never matches, but lint says nothing", scope)
		}
	}
}
