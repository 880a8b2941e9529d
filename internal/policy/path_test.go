package policy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
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
