package policy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPluginPath(t *testing.T) {
	const req = `transports.docker["registry.example.com/team"][0]`
	for _, tc := range []struct{ untrusted, want string }{
		{"", req},
		{"config", req + ".config"},
		{"config.identities[0].subjectRegexp", req + ".config.identities[0].subjectRegexp"},
		{"[1]", req + "[1]"}, // an index joins without a dot (check once wrote "x.[1]")
		{"config\n.evil\x1b[2J", req + ".config .evil [2J"},
	} {
		if got := PluginPath(req, tc.untrusted); got != tc.want {
			t.Errorf("PluginPath(%q) = %q, want %q", tc.untrusted, got, tc.want)
		}
	}
}

// TestCheckAndLintShareOnePluginPath: check and lint print plugin problems at
// paths made by PluginPath, not by copies of their own (two copies had drifted
// apart on index paths).
func TestCheckAndLintShareOnePluginPath(t *testing.T) {
	for _, pkg := range []string{"../check", "../lint"} {
		files, err := filepath.Glob(filepath.Join(pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		uses := 0
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncDecl:
					if strings.EqualFold(n.Name.Name, "pluginPath") {
						t.Errorf("%s: func %s is a copy of policy.PluginPath", file, n.Name.Name)
					}
				case *ast.SelectorExpr:
					if x, ok := n.X.(*ast.Ident); ok && x.Name == "policy" && n.Sel.Name == "PluginPath" {
						uses++
					}
				}
				return true
			})
		}
		if uses == 0 {
			t.Errorf("%s does not place plugin paths with policy.PluginPath", pkg)
		}
	}
}

func TestBuiltinPolicy(t *testing.T) {
	pol, err := BuiltinPolicy([]byte(`{"type": "reject"}`))
	if err != nil || len(pol.Default) != 1 {
		t.Fatalf("BuiltinPolicy(reject) = %+v, %v", pol, err)
	}
	if _, err := BuiltinPolicy([]byte(`{"type": "signedBy"}`)); err == nil {
		t.Fatal("containers/image accepted a signedBy without keyType")
	}
}

// TestIsIdentifierIsTheRegexp checks the loop against the regexp it replaced,
// on every string of up to three bytes from an alphabet of each class and the
// edges around them, and on longer ones.
func TestIsIdentifierIsTheRegexp(t *testing.T) {
	re := regexp.MustCompile(`\A[A-Za-z_][A-Za-z0-9_]*\z`)
	alphabet := []string{"", "a", "z", "A", "Z", "_", "0", "9", "/", ".", "-", "@", "`", "[", "{", ":", "\x00", "\n", "é", "\xff"}
	var n int
	for _, a := range alphabet {
		for _, b := range alphabet {
			for _, c := range alphabet {
				s := a + b + c
				n++
				if got, want := isIdentifier(s), re.MatchString(s); got != want {
					t.Errorf("isIdentifier(%q) = %v, the regexp says %v", s, got, want)
				}
			}
		}
	}
	for _, s := range []string{"docker", "containers_storage", "docker_daemon", "oci-archive", "_x9", "9x", "x 9", "abc\n"} {
		if got, want := isIdentifier(s), re.MatchString(s); got != want {
			t.Errorf("isIdentifier(%q) = %v, the regexp says %v", s, got, want)
		}
	}
	if n < 8000 {
		t.Fatalf("only %d strings compared", n)
	}
}
