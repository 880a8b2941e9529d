package plugin

import (
	"slices"

	"github.com/sigstore/fulcio/pkg/certificate"
)

// fulcioExtensions maps the config's extension names to Fulcio's v2 certificate
// extensions (OIDs 1.3.6.1.4.1.57264.1.9 to .23), as parsed by fulcio itself.
var fulcioExtensions = map[string]func(certificate.Extensions) string{
	"buildSignerURI":                      func(e certificate.Extensions) string { return e.BuildSignerURI },
	"buildSignerDigest":                   func(e certificate.Extensions) string { return e.BuildSignerDigest },
	"runnerEnvironment":                   func(e certificate.Extensions) string { return e.RunnerEnvironment },
	"sourceRepositoryURI":                 func(e certificate.Extensions) string { return e.SourceRepositoryURI },
	"sourceRepositoryDigest":              func(e certificate.Extensions) string { return e.SourceRepositoryDigest },
	"sourceRepositoryRef":                 func(e certificate.Extensions) string { return e.SourceRepositoryRef },
	"sourceRepositoryIdentifier":          func(e certificate.Extensions) string { return e.SourceRepositoryIdentifier },
	"sourceRepositoryOwnerURI":            func(e certificate.Extensions) string { return e.SourceRepositoryOwnerURI },
	"sourceRepositoryOwnerIdentifier":     func(e certificate.Extensions) string { return e.SourceRepositoryOwnerIdentifier },
	"buildConfigURI":                      func(e certificate.Extensions) string { return e.BuildConfigURI },
	"buildConfigDigest":                   func(e certificate.Extensions) string { return e.BuildConfigDigest },
	"buildTrigger":                        func(e certificate.Extensions) string { return e.BuildTrigger },
	"runInvocationURI":                    func(e certificate.Extensions) string { return e.RunInvocationURI },
	"sourceRepositoryVisibilityAtSigning": func(e certificate.Extensions) string { return e.SourceRepositoryVisibilityAtSigning },
	"deploymentEnvironment":               func(e certificate.Extensions) string { return e.DeploymentEnvironment },
}

// ExtensionNames lists the extension names a config may pin, sorted.
func ExtensionNames() []string {
	names := make([]string, 0, len(fulcioExtensions))
	for name := range fulcioExtensions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// extensionPin requires one Fulcio extension to have exactly one value.
type extensionPin struct {
	name  string
	value string
	get   func(certificate.Extensions) string
}

// repositoryExtensions are the pins that tie a signer to one source repository.
var repositoryExtensions = []string{"sourceRepositoryURI", "sourceRepositoryIdentifier", "sourceRepositoryDigest"}
