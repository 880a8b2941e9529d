package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// AuthRegistry is one registry storage served twice by docker-registry: Addr
// requires HTTP basic credentials (distribution's htpasswd auth, as a private
// registry would), OpenAddr serves the same storage without auth, so that
// tests push and sign with tools that take no credentials and then read
// through Addr.
type AuthRegistry struct {
	Addr, OpenAddr     string
	Username, Password string
}

// authRegistryConfig is registryConfig with htpasswd auth.
const authRegistryConfig = registryConfig + `auth:
  htpasswd:
    realm: cps-e2e
    path: %s
`

// StartAuthRegistry starts an AuthRegistry on 127.0.0.1 with one user; both
// processes are stopped by t.Cleanup. Plain HTTP, like StartRegistry.
func StartAuthRegistry(t testing.TB, username, password string) AuthRegistry {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	htpasswd := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(htpasswd, fmt.Appendf(nil, "%s:%s\n", username, hash), 0o600); err != nil {
		t.Fatal(err)
	}
	storage := filepath.Join(dir, "storage")
	reg := AuthRegistry{Username: username, Password: password}
	reg.OpenAddr = startRegistryWithConfig(t, func(addr string) string {
		return fmt.Sprintf(registryConfig, storage, addr)
	})
	reg.Addr = startRegistryWithConfig(t, func(addr string) string {
		return fmt.Sprintf(authRegistryConfig, storage, addr, htpasswd)
	})
	return reg
}

// startRegistryWithConfig runs docker-registry with the configuration
// config(addr) on a free loopback port, retrying when the port was taken in
// between, and returns the address.
func startRegistryWithConfig(t testing.TB, config func(addr string) string) string {
	t.Helper()
	bin := ToolPath(t, "docker-registry")
	dir := t.TempDir()
	var lastErr error
	for attempt := range 5 {
		addr, err := freeLoopbackAddr()
		if err != nil {
			t.Fatalf("e2e: picking a port: %v", err)
		}
		path := filepath.Join(dir, fmt.Sprintf("config-%d.yml", attempt))
		if err := os.WriteFile(path, []byte(config(addr)), 0o600); err != nil {
			t.Fatal(err)
		}
		stop, err := startRegistryProcess(bin, path, addr)
		if err == nil {
			t.Cleanup(stop)
			return addr
		}
		lastErr = err
	}
	t.Fatalf("e2e: starting %s: %v", bin, lastErr)
	return ""
}
