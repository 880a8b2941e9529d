package trustedroot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/sigstore/sigstore-go/pkg/tuf"
	"github.com/theupdateframework/go-tuf/v2/metadata"
	"github.com/theupdateframework/go-tuf/v2/metadata/fetcher"
)

// Defaults of the command and the systemd unit.
const (
	DefaultOutput   = "/etc/containers/sigstore/trusted_root.json"
	DefaultCacheDir = "/var/lib/containers-policy-sigstore/tuf"
	DefaultMirror   = tuf.DefaultMirror
	DefaultTimeout  = 60 * time.Second
	// TargetName is the target Sigstore's repositories publish the root as.
	TargetName = "trusted_root.json"
)

// Options say where to update from and to.
type Options struct {
	// Mirror is the TUF repository's base URL.
	Mirror string
	// Root is the TUF root.json that bootstraps trust in Mirror. Once the cache
	// holds a newer root verified from it, that root is the starting point, as
	// the TUF client workflow says; a different Root starts over.
	Root []byte
	// CacheDir holds the TUF metadata between runs and the lock.
	CacheDir string
	// Output is the trusted_root.json to replace.
	Output string
	// Timeout bounds each HTTP request; the caller's context bounds the whole
	// update.
	Timeout time.Duration
}

// Result says what an update did.
type Result struct {
	Changed bool
	// Changes are one line per CA, log or authority added, removed or changed.
	Changes          []string
	TimestampVersion int64
	TimestampExpires time.Time
}

// RefusedError is an update the TUF client or the content checks refused: the
// repository (or someone between it and us) served metadata or a target that
// does not verify. The output is untouched.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return "update refused: " + e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// Update refreshes the TUF repository and replaces Output with its verified
// trusted_root.json target if that differs. An error is a *RefusedError when
// verification failed, anything else (network, disk, lock) otherwise; either
// way Output keeps its previous content byte for byte.
func Update(ctx context.Context, opts Options) (*Result, error) {
	// Refused before anything is fetched: what is there now decides whether
	// the update may write at all.
	if _, err := readOutput(opts.Output); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opts.CacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("cache directory: %w", err)
	}
	unlock, err := lock(ctx, opts.CacheDir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	untrustedTarget, timestamp, err := fetchTarget(ctx, opts)
	if err != nil {
		return nil, err
	}
	// go-tuf verified the target's length and hashes against signed targets
	// metadata; what remains is whether it is a root the plugin can use.
	target := untrustedTarget
	newRoot, err := ParseRoot(target)
	if err != nil {
		return nil, &RefusedError{fmt.Errorf("target %s: %w", TargetName, err)}
	}
	res := &Result{TimestampVersion: timestamp.Version, TimestampExpires: timestamp.Expires}

	if err := os.MkdirAll(filepath.Dir(opts.Output), 0o755); err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	if err := checkOutputDir(opts.Output); err != nil {
		return nil, err
	}
	old, err := readOutput(opts.Output)
	switch {
	case err == nil && old != nil && bytes.Equal(old, target):
	case err == nil:
		var oldItems []Item
		if oldRoot, perr := ParseRoot(old); perr == nil {
			oldItems = Items(oldRoot)
		} else if old != nil {
			// Not what the parser said: it quotes the file, which may be
			// anything an --output names.
			res.Changes = append(res.Changes, "previous file was not a usable trusted root")
		}
		res.Changes = append(res.Changes, Diff(oldItems, Items(newRoot))...)
		if err := replace(opts.Output, target); err != nil {
			return nil, err
		}
		res.Changed = true
	default:
		return nil, fmt.Errorf("reading the current file: %w", err)
	}
	status := &Status{
		Repository:       opts.Mirror,
		TargetSHA256:     sha256Hex(target),
		TimestampVersion: timestamp.Version,
		TimestampExpires: timestamp.Expires,
		Checked:          time.Now().UTC(),
	}
	if err := writeStatus(opts.Output, status); err != nil {
		return res, fmt.Errorf("recording the update's status: %w", err)
	}
	return res, nil
}

// replace stages the new file, has the plugin load the staged copy, and only
// then renames it over the old one.
func replace(output string, data []byte) error {
	s, err := stage(output, data)
	if err != nil {
		return err
	}
	if err := loadsInPlugin(s.path); err != nil {
		s.discard()
		return &RefusedError{fmt.Errorf("target %s: %w", TargetName, err)}
	}
	return s.commit()
}

// fetchTarget runs the TUF client workflow and returns the trusted_root.json
// target and the timestamp metadata that vouched for it.
func fetchTarget(ctx context.Context, opts Options) ([]byte, *metadata.TimestampType, error) {
	f := fetcher.NewDefaultFetcher()
	f.SetHTTPUserAgent("containers-policy-sigstore")
	// go-tuf's fetcher makes its requests without a context: the transport
	// gives them ctx, so that the run's deadline bounds all of them together.
	f.SetHTTPClient(&http.Client{Timeout: opts.Timeout, Transport: withContext{ctx: ctx, next: http.DefaultTransport}})
	tufOpts := &tuf.Options{
		Root:              startingRoot(opts),
		CachePath:         opts.CacheDir,
		RepositoryBaseURL: opts.Mirror,
		CacheValidity:     tuf.NoCache, // always ask the repository: that is the point
		Fetcher:           f,
	}
	client, err := tuf.New(tufOpts)
	if err != nil {
		return nil, nil, classify(err)
	}
	untrustedTarget, err := client.GetTarget(TargetName)
	if err != nil {
		return nil, nil, classify(err)
	}
	if err := rememberBootstrap(opts); err != nil {
		return nil, nil, err
	}
	// The updater persisted the timestamp metadata it just verified.
	data, err := os.ReadFile(filepath.Join(repoDir(opts), metadata.TIMESTAMP+".json"))
	if err != nil {
		return nil, nil, fmt.Errorf("reading verified timestamp metadata: %w", err)
	}
	ts, err := metadata.Timestamp().FromBytes(data)
	if err != nil {
		return nil, nil, fmt.Errorf("reading verified timestamp metadata: %w", err)
	}
	return untrustedTarget, &ts.Signed, nil
}

// withContext sends every request under ctx.
type withContext struct {
	ctx  context.Context //nolint:containedctx // go-tuf's fetcher takes none; this is the run's.
	next http.RoundTripper
}

func (w withContext) RoundTrip(req *http.Request) (*http.Response, error) {
	return w.next.RoundTrip(req.WithContext(w.ctx))
}

// classify separates what TUF refused from what merely failed.
func classify(err error) error {
	for _, refused := range []error{
		&metadata.ErrRepository{},             // signatures, versions, expiry, hashes
		&metadata.ErrDownloadLengthMismatch{}, // more bytes than signed metadata allows
		&metadata.ErrValue{},                  // metadata that does not parse as TUF
		&metadata.ErrType{},
	} {
		if errors.Is(err, refused) {
			return &RefusedError{err}
		}
	}
	return err
}

// repoDir is where sigstore-go's client keeps one repository's metadata.
func repoDir(opts Options) string { return filepath.Join(opts.CacheDir, tuf.URLToPath(opts.Mirror)) }

// bootstrapFile records which bootstrap root the cached metadata grew from.
func bootstrapFile(opts Options) string { return repoDir(opts) + ".bootstrap-sha256" }

// startingRoot is the newest root the cache verified from opts.Root, or opts.Root
// itself. Starting from the cached root is the TUF client workflow (5.2: load the
// trusted root from the local repository); starting from the bootstrap root each
// time would fetch every root version since it on every run.
func startingRoot(opts Options) []byte {
	recorded, err := os.ReadFile(bootstrapFile(opts))
	if err != nil || string(bytes.TrimSpace(recorded)) != sha256Hex(opts.Root) {
		return opts.Root
	}
	cached, err := os.ReadFile(filepath.Join(repoDir(opts), metadata.ROOT+".json"))
	if err != nil {
		return opts.Root
	}
	// The updater wrote it only after verifying it; still, a damaged file must not
	// wedge the client, so it has to parse as root metadata to be used.
	if _, err := metadata.Root().FromBytes(cached); err != nil {
		return opts.Root
	}
	return cached
}

func rememberBootstrap(opts Options) error {
	return writeAtomic(bootstrapFile(opts), []byte(sha256Hex(opts.Root)+"\n"))
}
