package protocol

import (
	"go/build"
	"strings"
	"testing"
)

// TestProtocolImportsOnlyTheStandardLibrary keeps package protocol vendorable
// by containers/image: it and protocol/strictjson may import nothing but the
// standard library (and each other). Test files are exempt.
func TestProtocolImportsOnlyTheStandardLibrary(t *testing.T) {
	const module = "github.com/policy-plugins/sigstore/"
	allowed := map[string]string{
		module + "protocol":            ".",
		module + "protocol/strictjson": "strictjson",
	}
	for importPath, dir := range allowed {
		// Every GOOS: a platform-specific file must not sneak a dependency in.
		for _, goos := range []string{"linux", "darwin", "freebsd", "windows"} {
			ctx := build.Default
			ctx.GOOS = goos
			pkg, err := ctx.ImportDir(dir, 0)
			if err != nil {
				t.Fatalf("%s (GOOS=%s): %v", importPath, goos, err)
			}
			for _, imp := range pkg.Imports {
				if _, ok := allowed[imp]; ok {
					continue
				}
				std, err := build.Default.Import(imp, "", build.FindOnly)
				if err != nil || !std.Goroot || strings.HasPrefix(imp, "golang.org/x/") {
					t.Errorf("%s (GOOS=%s) imports %q, which is not in the standard library", importPath, goos, imp)
				}
			}
		}
	}
}
