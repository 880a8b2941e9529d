package upstreamclients

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/policy-plugins/sigstore/internal/e2e"
)

// The clients hack/upstream-clients.sh builds, by their file names.
const (
	Skopeo         = "skopeo"          // skopeo with the patch series
	Podman         = "podman"          // podman with the patch series
	PristineSkopeo = "skopeo-pristine" // skopeo with containers/image as released
)

// PluginDirsEnv is where the patched containers/image looks for plugins
// before /usr/lib/containers/policy-plugins.d (containers-policy-plugin(5)).
const PluginDirsEnv = "CONTAINERS_POLICY_PLUGINS_DIR"

// outEnv overrides where the binaries are, as it does for the script.
const outEnv = "UPSTREAM_CLIENTS_OUT"

// BuildHint is what a missing binary's failure says.
const BuildHint = "run `make upstream-clients` (hack/upstream-clients.sh) to build skopeo and podman into bin/upstream/"

// DefaultTimeout bounds one client run: a hanging plugin or registry fails the
// test instead of the whole test binary.
const DefaultTimeout = 5 * time.Minute

// moduleRoot is e2e.ModuleRoot, asked once per test binary.
var moduleRoot = sync.OnceValues(e2e.ModuleRoot)

// Dir is where make upstream-clients puts the binaries: $UPSTREAM_CLIENTS_OUT,
// or bin/upstream/ of this repository.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(outEnv); d != "" {
		return d
	}
	root, err := moduleRoot()
	if err != nil {
		t.Fatalf("upstreamclients: %v", err)
	}
	return filepath.Join(root, "bin", "upstream")
}

// Binary is the path of client (Skopeo, Podman, PristineSkopeo). A missing
// one skips t under -short and fails it otherwise, naming make upstream-clients.
func Binary(t testing.TB, client string) string {
	t.Helper()
	path := filepath.Join(Dir(t), client)
	fi, err := os.Stat(path)
	if err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return path
	}
	if testing.Short() {
		t.Skipf("upstreamclients: %s is not built (%v): skipped with -short; %s", client, err, BuildHint)
	}
	t.Fatalf("upstreamclients: %s is not built at %s (%v); %s", client, path, err, BuildHint)
	return ""
}

// Option changes one run.
type Option func(*config)

type config struct {
	env     []string
	args    []string
	timeout time.Duration
	usage   *syscall.Rusage
}

// Env adds KEY=VALUE entries to the client's environment; they win over the
// isolated defaults and the passed-through CONTAINERS_POLICY_* variables.
func Env(kv ...string) Option { return func(c *config) { c.env = append(c.env, kv...) } }

// Args adds flags to the subcommand (pull, copy), before its image arguments:
// e.g. Args("--remove-signatures") for a copy into an OCI layout, which cannot
// store signatures.
func Args(args ...string) Option { return func(c *config) { c.args = append(c.args, args...) } }

// Timeout replaces DefaultTimeout.
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// Usage stores in u the resource usage wait4 reported for the client's
// process when it ended. Its Maxrss (KiB) is the larger of the client's own
// peak RSS and that of the largest descendant it waited for (a plugin it
// ran): one figure for the tree, never a sum.
func Usage(u *syscall.Rusage) Option { return func(c *config) { c.usage = u } }

func options(opts []Option) config {
	c := config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// isolation is one run's private configuration: a HOME, TMPDIR and
// XDG_CONFIG_HOME of its own, an empty registries.conf and auth file, and
// registries.d (when not empty) as the user's $XDG_CONFIG_HOME/containers/registries.d.
type isolation struct {
	dir string
	env []string
}

func isolate(t testing.TB, registriesD string) isolation {
	t.Helper()
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	xdg := filepath.Join(dir, "config")
	tmp := filepath.Join(dir, "tmp")
	for _, d := range []string{home, filepath.Join(xdg, "containers"), tmp} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if registriesD != "" {
		abs, err := filepath.Abs(registriesD)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(xdg, "containers", "registries.d")); err != nil {
			t.Fatal(err)
		}
	}
	registriesConf := writeFile(t, dir, "registries.conf", "")
	auth := writeFile(t, dir, "auth.json", "{}")
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"TMPDIR=" + tmp,
		"XDG_CONFIG_HOME=" + xdg,
		"CONTAINERS_REGISTRIES_CONF=" + registriesConf,
		"REGISTRY_AUTH_FILE=" + auth,
	}
	// The plugin's own variables, as a user's shell would pass them.
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "CONTAINERS_POLICY_") {
			env = append(env, kv)
		}
	}
	return isolation{dir: dir, env: env}
}

func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// podmanNamespace is the shell run as `unshare -m sh -c`, in a private mount
// namespace: podman 6 refuses cgroup v1, so cgroup2 is mounted there; the
// system registries.d directories that exist are hidden under empty read-only
// tmpfs mounts, so that only the run's own (the user's, under XDG_CONFIG_HOME)
// applies: podman has no flag for registries.d.
const podmanNamespace = `set -e
mount -t cgroup2 none /sys/fs/cgroup
for d in /etc/containers/registries.d /etc/containers/registries.rootful.d \
	/usr/share/containers/registries.d /usr/share/containers/registries.rootful.d; do
	if [ -d "$d" ]; then mount -t tmpfs -o ro,mode=0755 none "$d"; fi
done
exec "$@"
`

// PodmanPull is `podman pull --signature-policy POLICY REF` with the patched
// podman, in a private mount namespace with cgroup2 mounted, vfs storage in a
// temporary directory, cgroupfs, no events, TLS verification off (the test
// registries are plain HTTP on loopback) and registriesD as the only
// registries.d. err is the exit error (an *exec.ExitError for a refusal).
func PodmanPull(t testing.TB, policy, registriesD, ref string, opts ...Option) (stdout, stderr string, err error) {
	t.Helper()
	bin := Binary(t, Podman)
	c := options(opts)
	iso := isolate(t, registriesD)
	storage := filepath.Join(iso.dir, "storage")
	// Empty files: podman's built-in defaults, not the machine's containers.conf
	// or storage.conf; the flags below say the rest.
	env := append(iso.env,
		"CONTAINERS_CONF="+writeFile(t, iso.dir, "containers.conf", ""),
		"CONTAINERS_STORAGE_CONF="+writeFile(t, iso.dir, "storage.conf", ""),
	)
	args := []string{
		"-m", "sh", "-c", podmanNamespace, "sh", bin,
		"--root", filepath.Join(storage, "root"),
		"--runroot", filepath.Join(storage, "runroot"),
		"--tmpdir", filepath.Join(storage, "tmp"),
		"--storage-driver", "vfs",
		"--cgroup-manager", "cgroupfs",
		"--events-backend", "none",
		"pull", "--signature-policy", policy, "--tls-verify=false",
	}
	args = append(append(args, c.args...), ref)
	return run(t, c, append(env, c.env...), "unshare", args...)
}

// SkopeoCopy is `skopeo --policy POLICY --registries.d DIR copy SRC DST` with
// the patched skopeo, TLS verification off for both ends.
func SkopeoCopy(t testing.TB, policy, registriesD, src, dst string, opts ...Option) (stdout, stderr string, err error) {
	t.Helper()
	return skopeoCopy(t, Skopeo, policy, registriesD, src, dst, opts)
}

// PristineSkopeoCopy is SkopeoCopy with the skopeo built against
// containers/image as released, which knows no plugin requirement.
func PristineSkopeoCopy(t testing.TB, policy, registriesD, src, dst string, opts ...Option) (stdout, stderr string, err error) {
	t.Helper()
	return skopeoCopy(t, PristineSkopeo, policy, registriesD, src, dst, opts)
}

func skopeoCopy(t testing.TB, client, policy, registriesD, src, dst string, opts []Option) (stdout, stderr string, err error) {
	t.Helper()
	bin := Binary(t, client)
	c := options(opts)
	iso := isolate(t, "")
	args := []string{"--policy", policy}
	if registriesD != "" {
		args = append(args, "--registries.d", registriesD)
	}
	args = append(args, "copy", "--src-tls-verify=false", "--dest-tls-verify=false")
	args = append(append(args, c.args...), src, dst)
	return run(t, c, append(iso.env, c.env...), bin, args...)
}

// run runs bin in its own process group, killed whole when the timeout
// passes, and logs the command, its exit and both streams.
func run(t testing.TB, c config, env []string, bin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	var outBuf, errBuf bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &outBuf, &errBuf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	if c.usage != nil && cmd.ProcessState != nil {
		*c.usage = *cmd.ProcessState.SysUsage().(*syscall.Rusage)
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%s: killed after %s: %w", filepath.Base(bin), c.timeout, err)
	}
	shown := append([]string{filepath.Base(bin)}, args...)
	if len(args) > 5 && args[1] == "sh" && args[3] == podmanNamespace {
		// unshare -m sh -c SCRIPT sh PODMAN ARGS: the script is always the same.
		shown = append([]string{"unshare -m sh -c ... podman"}, args[6:]...)
	}
	t.Logf("upstreamclients: %s: %v (%s)\nstdout:\n%s\nstderr:\n%s", strings.Join(shown, " "),
		exitText(err), time.Since(start).Round(time.Millisecond), outBuf.String(), errBuf.String())
	return outBuf.String(), errBuf.String(), err
}

func exitText(err error) string {
	if err == nil {
		return "exit 0"
	}
	return err.Error()
}

// Messages is a client's stderr with the logrus lines skopeo writes
// (`time="..." level=fatal msg="..."`) replaced by their unquoted msg, so
// that a test can look for a reason as the plugin wrote it; other lines
// (podman's `Error: ...`) stay as they are.
func Messages(stderr string) string {
	lines := strings.Split(stderr, "\n")
	for i, line := range lines {
		_, quoted, ok := strings.Cut(line, ` msg="`)
		if !ok || !strings.HasPrefix(line, "time=") {
			continue
		}
		// msg is the last field of logrus' text format for these lines.
		if msg, err := strconv.Unquote(`"` + quoted); err == nil {
			lines[i] = msg
		}
	}
	return strings.Join(lines, "\n")
}
