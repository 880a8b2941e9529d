package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/types"

	// The two transports bench takes, registered with transports.
	_ "go.podman.io/image/v5/docker"
	_ "go.podman.io/image/v5/oci/layout"
)

// hostConfig is the configuration a containers/image host reads: the files a
// test names explicitly, so that nothing of the machine's leaks in.
type hostConfig struct {
	registriesD       string // registries.d (use-sigstore-attachments lives there)
	registriesConf    string // registries.conf (insecure = true for a loopback registry)
	registriesConfDir string // registries.conf.d
	authFile          string
	blobInfoCache     string
}

func (c *hostConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.registriesD, "registries.d", "", "registries.d `DIR`")
	fs.StringVar(&c.registriesConf, "registries-conf", "", "registries.conf `FILE`")
	fs.StringVar(&c.registriesConfDir, "registries-conf-dir", "", "registries.conf.d `DIR`")
	fs.StringVar(&c.authFile, "authfile", "", "auth.json `FILE`")
	fs.StringVar(&c.blobInfoCache, "blob-info-cache", "", "blob info cache `DIR` (default: a temporary directory)")
}

// systemContext is what skopeo builds from its flags. It leaves
// DockerInsecureSkipTLSVerify undefined: the docker transport then takes
// `insecure` from registries.conf, as skopeo without --tls-verify does.
func (c *hostConfig) systemContext() (sys *types.SystemContext, cleanup func(), err error) {
	cleanup = func() {}
	cache := c.blobInfoCache
	if cache == "" {
		// Root's default cache is /var/lib/containers/cache: not a test's to write.
		if cache, err = os.MkdirTemp("", "upstream-e2e-bic-"); err != nil {
			return nil, nil, err
		}
		cleanup = func() { _ = os.RemoveAll(cache) }
	}
	return &types.SystemContext{
		RegistriesDirPath:           c.registriesD,
		SystemRegistriesConfPath:    c.registriesConf,
		SystemRegistriesConfDirPath: c.registriesConfDir,
		AuthFilePath:                c.authFile,
		BlobInfoCacheDir:            cache,
	}, cleanup, nil
}

// session is a parsed command line, ready to run: its image operands and
// the SystemContext; close releases them.
type session struct {
	images []types.ImageReference
	sys    *types.SystemContext
	close  func()
}

// open parses args, which must hold n image names after the flags of fs
// (hostConfig's registered on it), and prepares what bench needs.
func (c *hostConfig) open(fs *flag.FlagSet, args []string, n int) (*session, error) {
	operands, err := parseFlags(fs, args, n)
	if err != nil {
		return nil, err
	}
	s := &session{}
	for _, name := range operands {
		ref, err := parseImageName(name)
		if err != nil {
			return nil, err
		}
		s.images = append(s.images, ref)
	}
	sys, cleanup, err := c.systemContext()
	if err != nil {
		return nil, err
	}
	s.sys = sys
	s.close = cleanup
	return s, nil
}

// policyContext loads policy.json as skopeo --policy FILE does.
func policyContext(path string) (*signature.PolicyContext, error) {
	if path == "" {
		return nil, usageError("-policy is required")
	}
	policy, err := signature.NewPolicyFromFile(path)
	if err != nil {
		return nil, err
	}
	return signature.NewPolicyContext(policy)
}

// parseImageName is alltransports.ParseImageName for the transports linked
// in (alltransports would link containers/storage).
func parseImageName(name string) (types.ImageReference, error) {
	transport, within, ok := strings.Cut(name, ":")
	if !ok {
		return nil, usageError(fmt.Sprintf("%q is not TRANSPORT:REFERENCE", name))
	}
	t := transports.Get(transport)
	if t == nil {
		return nil, usageError(fmt.Sprintf("unsupported transport %q in %q", transport, name))
	}
	return t.ParseReference(within)
}

// parseFlags parses args and wants exactly n operands.
func parseFlags(fs *flag.FlagSet, args []string, n int) ([]string, error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		return nil, usageError(err.Error())
	}
	if fs.NArg() != n {
		return nil, usageError(fmt.Sprintf("%s wants %d operands, got %q", fs.Name(), n, fs.Args()))
	}
	return fs.Args(), nil
}
