package plugin

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestPackageDocListsDeclaredPlaces: every function and file the package
// documentation names as a place where a verdict is decided exists, so that
// the list cannot silently rot when code moves.
func TestPackageDocListsDeclaredPlaces(t *testing.T) {
	fset := token.NewFileSet()
	declared := map[string]bool{}
	var doc string
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]bool{}
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		files[name] = true
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if f.Doc != nil {
			doc += f.Doc.Text()
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				declared[d.Name.Name] = true
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						declared[ts.Name.Name] = true
					}
				}
			}
		}
	}
	_, list, ok := strings.Cut(doc, "Where a verdict is decided")
	if !ok {
		t.Fatal("the package documentation has no list of where a verdict is decided")
	}
	names := 0
	for _, name := range regexp.MustCompile(`\b[a-z]+[A-Z][A-Za-z]*\b`).FindAllString(list, -1) {
		if !declared[name] {
			t.Errorf("the package documentation names %s, which the package does not declare", name)
		}
		names++
	}
	for _, name := range regexp.MustCompile(`\b[a-z_]+\.go\b`).FindAllString(list, -1) {
		if !files[name] {
			t.Errorf("the package documentation names %s, which is not a file of the package", name)
		}
		names++
	}
	if names < 10 {
		t.Fatalf("only %d places found in the list", names)
	}
}

// TestOnlyTheVerifierMakesVerified: a verified value, which identity matching,
// payload parsing and reference binding take, is made in verify.go only (by
// runVerifier, from what sigstore-go accepted), never elsewhere in the package.
func TestOnlyTheVerifierMakesVerified(t *testing.T) {
	fset := token.NewFileSet()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	made := 0
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.CompositeLit); ok {
				if id, ok := lit.Type.(*ast.Ident); ok && id.Name == "verified" {
					if name != "verify.go" {
						t.Errorf("%s makes a verified value", fset.Position(lit.Pos()))
					}
					made++
				}
			}
			return true
		})
	}
	if made == 0 {
		t.Fatal("verify.go makes no verified value")
	}
}
