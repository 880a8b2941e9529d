package protocol

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The host tests run real plugin processes: this test binary itself, copied
// into a plugin directory under the name of a behaviour. TestMain looks at the
// name it was started under; a plugin gets nothing else from the host (argv is
// [path, command], the environment is filtered), so the name is the channel.

// TestMain runs the tests, or a test plugin when started under a behaviour's name.
func TestMain(m *testing.M) {
	if behave, ok := testPlugins[filepath.Base(os.Args[0])]; ok {
		os.Exit(runTestPlugin(behave))
	}
	code := m.Run()
	if pluginBinaryDir != "" {
		_ = os.RemoveAll(pluginBinaryDir)
	}
	os.Exit(code)
}

// testPlugin is one behaviour: given the command and stdin, write stdout and
// stderr and return the exit status (or never return).
type testPlugin func(command string, stdin []byte, stdout, stderr io.Writer) int

func runTestPlugin(behave testPlugin) int {
	command := ""
	if len(os.Args) > 1 {
		command = os.Args[1]
	}
	var stdin []byte
	// dies-at-start exits without waiting for its request.
	if command != CommandMetadata && command != "child" && filepath.Base(os.Args[0]) != "dies-at-start" {
		stdin, _ = io.ReadAll(os.Stdin)
	}
	return behave(command, stdin, os.Stdout, os.Stderr)
}

// goodHandler is a correct plugin: it accepts exactly when the config is
// {"accept": true}, accepting the first signature, or {"acceptIndex": true},
// accepting the first signature of the index.
type goodHandler struct{}

func (goodHandler) Metadata() Metadata {
	return Metadata{
		Name: "good", Version: "1.0.0", APIVersions: []string{APIVersion},
		SignatureFormats: []string{FormatSigstoreJSON, FormatSigstoreBundle},
	}
}

func (goodHandler) ValidateConfig(req *ValidateConfigRequest) (*ValidateConfigResponse, error) {
	var cfg map[string]any
	if err := json.Unmarshal(req.Config, &cfg); err != nil || cfg == nil {
		return &ValidateConfigResponse{Errors: []ConfigProblem{{Path: "config", Message: "must be an object"}}}, nil
	}
	if _, ok := cfg["accept"].(bool); !ok {
		return &ValidateConfigResponse{Errors: []ConfigProblem{{Path: "config.accept", Message: "must be true or false"}}}, nil
	}
	return &ValidateConfigResponse{Warnings: []ConfigProblem{{Path: "config", Message: "this is a test plugin"}}}, nil
}

func (goodHandler) Verify(req *VerifyRequest) (*VerifyResponse, error) {
	var cfg struct{ Accept, AcceptIndex bool }
	if err := json.Unmarshal(req.Config, &cfg); err != nil {
		return nil, Errorf(CodeInvalidConfig, "config: %v", err)
	}
	resp := &VerifyResponse{
		ManifestDigest: ManifestDigest(req.Image.Manifest), Verdict: VerdictReject,
		Reason: "no signature accepted", Signatures: []SignatureResult{},
	}
	subject := "https://gitlab.com/group/project//.gitlab-ci.yml@refs/heads/main"
	results := func(sigs []Signature, accept bool, via string) []SignatureResult {
		out := []SignatureResult{}
		for i := range sigs {
			r := SignatureResult{Index: i, Reason: "config says reject"}
			if accept && i == 0 {
				r.Accepted, r.Reason = true, "accepted"
				resp.Verdict, resp.Reason = VerdictAccept, "signature 0 accepted: subject "+subject
				resp.Accepted = &Accepted{Via: via, Signature: 0, Format: sigs[0].Format, Subject: &subject}
			} else if accept {
				r.Reason = NotEvaluated
			}
			out = append(out, r)
		}
		return out
	}
	resp.Signatures = results(req.Signatures, cfg.Accept, AcceptedViaImage)
	if index := req.Image.Index; index != nil {
		resp.IndexDigest = ManifestDigest(index.Manifest)
		resp.IndexSignatures = results(index.Signatures, cfg.AcceptIndex && !cfg.Accept, AcceptedViaIndex)
	}
	return resp, nil
}

func serveGood(command string, stdin []byte, stdout, stderr io.Writer) int {
	return Serve(goodHandler{}, []string{command}, strings.NewReader(string(stdin)), stdout, stderr)
}

// mutated answers like goodHandler, with the JSON of its answer rewritten by
// edit (applied to the object as a map, so edits can add, drop or retype fields).
func mutated(edit func(answer map[string]any)) testPlugin {
	return func(command string, stdin []byte, stdout, stderr io.Writer) int {
		var out strings.Builder
		status := serveGood(command, stdin, &out, stderr)
		var answer map[string]any
		if err := json.Unmarshal([]byte(out.String()), &answer); err != nil {
			panic(err)
		}
		edit(answer)
		data, err := json.Marshal(answer)
		if err != nil {
			panic(err)
		}
		_, _ = stdout.Write(data)
		return status
	}
}

// rewritten answers like goodHandler with its output text rewritten.
func rewritten(rewrite func(string) string) testPlugin {
	return func(command string, stdin []byte, stdout, stderr io.Writer) int {
		var out strings.Builder
		status := serveGood(command, stdin, &out, stderr)
		_, _ = io.WriteString(stdout, rewrite(out.String()))
		return status
	}
}

func fixed(status int, stdoutText, stderrText string) testPlugin {
	return func(_ string, _ []byte, stdout, stderr io.Writer) int {
		_, _ = io.WriteString(stdout, stdoutText)
		_, _ = io.WriteString(stderr, stderrText)
		return status
	}
}

// spawnChild starts this binary again as a member of the plugin's process
// group, under the same behaviour name with the command "child": it writes
// its PID next to the plugin and sleeps. inheritStdout gives it the plugin's
// stdout, so that it holds the pipe open.
func spawnChild(inheritStdout, newSession bool) {
	cmd := exec.Command(os.Args[0], "child")
	if inheritStdout {
		cmd.Stdout = os.Stdout
	}
	if newSession {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // out of the plugin's process group
	}
	if err := cmd.Start(); err != nil {
		panic(err)
	}
	// Wait until the child has written its PID, so the test can check on it.
	pidFile := filepath.Join(filepath.Dir(os.Args[0]), childPIDFile)
	for i := 0; i < 500; i++ {
		if data, err := os.ReadFile(pidFile); err == nil && len(data) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	panic("child did not start")
}

const childPIDFile = "child.pid"

func childMain() {
	pidFile := filepath.Join(filepath.Dir(os.Args[0]), childPIDFile)
	tmp := pidFile + ".tmp"
	if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d", os.Getpid()), 0o644); err != nil {
		panic(err)
	}
	if err := os.Rename(tmp, pidFile); err != nil {
		panic(err)
	}
	time.Sleep(time.Hour)
}

// testPlugins are the behaviours, by plugin name.
var testPlugins = map[string]testPlugin{
	"good": serveGood,
	"env": func(_ string, _ []byte, stdout, _ io.Writer) int {
		env := os.Environ()
		slices.Sort(env)
		data, _ := json.Marshal(env)
		_, _ = stdout.Write(data)
		return 0
	},
	"sleeper": func(string, []byte, io.Writer, io.Writer) int {
		time.Sleep(time.Hour)
		return 0
	},
	"parent": func(command string, _ []byte, _, _ io.Writer) int {
		if command == "child" {
			childMain()
		}
		spawnChild(false, false)
		time.Sleep(time.Hour)
		return 0
	},
	"leaves-child": func(command string, stdin []byte, stdout, stderr io.Writer) int {
		if command == "child" {
			childMain()
		}
		spawnChild(true, false)
		return serveGood(command, stdin, stdout, stderr)
	},
	"escapes": func(command string, stdin []byte, stdout, stderr io.Writer) int {
		if command == "child" {
			childMain()
		}
		spawnChild(true, true)
		return serveGood(command, stdin, stdout, stderr)
	},
	"killed": func(string, []byte, io.Writer, io.Writer) int {
		p, _ := os.FindProcess(os.Getpid())
		_ = p.Kill()
		time.Sleep(time.Hour)
		return 0
	},
	"panics": func(string, []byte, io.Writer, io.Writer) int {
		panic("test plugin crashed on purpose")
	},
	"exit2-after-accept": func(command string, stdin []byte, stdout, stderr io.Writer) int {
		serveGood(command, stdin, stdout, stderr)
		_, _ = io.WriteString(stderr, "something went wrong after the answer\n")
		return 2
	},
	"floods-stdout": func(command string, stdin []byte, stdout, stderr io.Writer) int {
		chunk := strings.Repeat(" ", 64<<10)
		for i := 0; i < 2*MaxStdoutBytes/len(chunk); i++ {
			_, _ = io.WriteString(stdout, chunk)
		}
		return serveGood(command, stdin, stdout, stderr)
	},
	"floods-stderr": func(command string, stdin []byte, stdout, stderr io.Writer) int {
		chunk := strings.Repeat("x", 64<<10) + "\n"
		for i := 0; i < 64; i++ {
			_, _ = io.WriteString(stderr, chunk)
		}
		return serveGood(command, stdin, stdout, stderr)
	},
	"silent": fixed(0, "", "nothing to say\n"),
	"dies-at-start": func(_ string, _ []byte, _, stderr io.Writer) int {
		_, _ = io.WriteString(stderr, "cannot start\n")
		return 3
	},
	"garbage":       fixed(0, "this is not JSON\n", ""),
	"array":         fixed(0, "[]\n", ""),
	"error-object":  fixed(1, `{"apiVersion":"containers-policy-plugin/v1alpha1","kind":"Error","code":"INVALID_CONFIG","message":"config.identities: required\nsecond line"}`, ""),
	"error-garbage": fixed(1, "oops", "fatal: cannot parse\n"),
	"trailing":      rewritten(func(s string) string { return s + "{}\n" }),
	"two-answers":   rewritten(func(s string) string { return s + s }),
	"duplicate-key": rewritten(func(s string) string {
		return strings.Replace(s, `"verdict":"accept"`, `"verdict":"reject","verdict":"accept"`, 1)
	}),
	"case-shadow": rewritten(func(s string) string {
		return strings.Replace(s, `"verdict":"reject"`, `"verdict":"reject","Verdict":"accept"`, 1)
	}),
	"wrong-api":      mutated(func(a map[string]any) { a["apiVersion"] = "containers-policy-plugin/v1" }),
	"wrong-kind":     mutated(func(a map[string]any) { a["kind"] = KindValidateConfigResponse }),
	"wrong-id":       mutated(func(a map[string]any) { a["requestID"] = "another-request" }),
	"no-id":          mutated(func(a map[string]any) { delete(a, "requestID") }),
	"wrong-digest":   mutated(func(a map[string]any) { a["manifestDigest"] = ManifestDigest([]byte("another manifest")) }),
	"no-accepted":    mutated(func(a map[string]any) { delete(a, "accepted") }),
	"null-accepted":  mutated(func(a map[string]any) { a["accepted"] = nil }),
	"maybe":          mutated(func(a map[string]any) { a["verdict"] = "maybe" }),
	"extra-field":    mutated(func(a map[string]any) { a["trust"] = "me" }),
	"lost-results":   mutated(func(a map[string]any) { a["signatures"] = []any{} }),
	"accepts-absent": mutated(func(a map[string]any) { a["accepted"].(map[string]any)["signature"] = 7 }),
	"reject-but-accepted": mutated(func(a map[string]any) {
		a["verdict"], a["accepted"] = "reject", nil
	}),
	"accepted-reject": mutated(func(a map[string]any) {
		a["verdict"], a["reason"] = "reject", "no"
	}),
	"wrong-index-digest":  mutated(func(a map[string]any) { a["indexDigest"] = ManifestDigest([]byte("another index")) }),
	"instance-as-index":   mutated(func(a map[string]any) { a["indexDigest"] = a["manifestDigest"] }),
	"no-index-digest":     mutated(func(a map[string]any) { delete(a, "indexDigest") }),
	"empty-index-digest":  mutated(func(a map[string]any) { a["indexDigest"] = "" }),
	"unasked-index":       mutated(func(a map[string]any) { a["indexDigest"], a["indexSignatures"] = a["manifestDigest"], []any{} }),
	"unasked-index-sigs":  mutated(func(a map[string]any) { a["indexSignatures"] = []any{} }),
	"no-index-sigs":       mutated(func(a map[string]any) { delete(a, "indexSignatures") }),
	"null-index-sigs":     mutated(func(a map[string]any) { a["indexSignatures"] = nil }),
	"lost-index-results":  mutated(func(a map[string]any) { a["indexSignatures"] = a["indexSignatures"].([]any)[:1] }),
	"index-results-moved": mutated(func(a map[string]any) { a["indexSignatures"].([]any)[0].(map[string]any)["index"] = 1 }),
	"no-via":              mutated(func(a map[string]any) { delete(a["accepted"].(map[string]any), "via") }),
	"via-both":            mutated(func(a map[string]any) { a["accepted"].(map[string]any)["via"] = "both" }),
	"via-index":           mutated(func(a map[string]any) { a["accepted"].(map[string]any)["via"] = AcceptedViaIndex }),
	"via-image":           mutated(func(a map[string]any) { a["accepted"].(map[string]any)["via"] = AcceptedViaImage }),
	"accepts-absent-index": mutated(func(a map[string]any) {
		a["accepted"].(map[string]any)["signature"] = 2
	}),
	"reject-but-index-accepted": mutated(func(a map[string]any) {
		a["verdict"], a["accepted"] = "reject", nil
	}),
	"bad-metadata":        mutated(func(a map[string]any) { a["apiVersions"] = "v1alpha1" }),
	"invalid-but-valid":   mutated(func(a map[string]any) { a["valid"] = true }),
	"problems-wrong-type": mutated(func(a map[string]any) { a["warnings"] = nil }),
}

// pluginBinaryDir holds one copy of the test binary; pluginBinary returns it.
var (
	pluginBinaryDir  string
	pluginBinaryOnce sync.Once
	pluginBinaryPath string
	pluginBinaryErr  error
)

func pluginBinary(t *testing.T) string {
	t.Helper()
	pluginBinaryOnce.Do(func() {
		self, err := os.Executable()
		if err != nil {
			pluginBinaryErr = err
			return
		}
		if pluginBinaryDir, err = os.MkdirTemp("", "protocol-host-test-"); err != nil {
			pluginBinaryErr = err
			return
		}
		pluginBinaryPath = filepath.Join(pluginBinaryDir, "protocol.test")
		pluginBinaryErr = copyFile(self, pluginBinaryPath, 0o755)
	})
	if pluginBinaryErr != nil {
		t.Fatalf("copying the test binary: %v", pluginBinaryErr)
	}
	return pluginBinaryPath
}

// installPlugin puts behaviour name into a new plugin directory (a hard link to
// the test binary, mode 0755) and returns a Host searching only that directory.
func installPlugin(t *testing.T, name string) (*Host, string) {
	t.Helper()
	if _, ok := testPlugins[name]; !ok {
		t.Fatalf("no test plugin %q", name)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, name)
	if err := os.Link(pluginBinary(t), path); err != nil {
		// Another file system: a copy does as well, only slower.
		if err := copyFile(pluginBinary(t), path, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &Host{Dirs: []string{dir}, Timeout: 20 * time.Second}, dir
}

func copyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, data, mode); err != nil {
		return err
	}
	return os.Chmod(dst, mode) // WriteFile's mode is subject to the umask
}
