# containers-policy-sigstore. `make help` lists the targets.
#
# The two set-up commands of README.md:
#   make run    build the binaries and verify the shipped public-good example
#   make test   install what the tests need (hack/install-deps.sh), run them all
#
# Install layout, in the containers projects' conventions (podman, skopeo):
#   make all && sudo make install                      # /usr/local/bin, /usr/local/share/man
#   make all && make install DESTDIR=/tmp/root PREFIX=/usr
# PLUGINDIR does not follow PREFIX: it is the fixed directory every host searches
# (containers-policy-plugin(5)), so a /usr/local install still lands there.

GO        ?= go
BUILDTAGS ?= containers_image_openpgp
# containers/image's signature package needs the tag to stay free of cgo/gpgme;
# exporting it through GOFLAGS makes plain `go test ./...` in this shell agree.
export GOFLAGS := -tags=$(BUILDTAGS) $(GOFLAGS)

PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share
PLUGINDIR ?= /usr/lib/containers/policy-plugins.d

# Two binaries: the plugin, the only file hosts run (PLUGINDIR/sigstore), links
# the protocol and the verifier and nothing else; the command for people
# (BINDIR/containers-policy-sigstore) adds check, lint and trusted-root.
BIN        := bin/containers-policy-sigstore
PLUGIN_BIN := bin/containers-policy-sigstore-plugin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS   := -s -w -X github.com/policy-plugins/sigstore/plugin.Version=$(VERSION)
TESTFLAGS ?= -timeout 45m

# Man pages: docs/NAME.SECTION.md -> docs/NAME.SECTION (go-md2man, pinned in hack/tools.env).
MANPAGES_MD := $(wildcard docs/*.[1-9].md)
MANPAGES    := $(MANPAGES_MD:%.md=%)
GO_MD2MAN   ?= $(shell hack/tool.sh go-md2man 2>/dev/null || command -v go-md2man)

# Packages. The version is the project's release (packaging/rpm/*.spec and
# packaging/debian/changelog must agree: package-check compares them); the
# binary inside still reports `git describe` through --version.
PKG_VERSION ?= 0.1.0
PKG_RELEASE ?= 1
DIST        ?= dist
# Package timestamps come from the last commit, so two builds of one commit are
# byte-identical (package-check builds twice and compares).
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

.PHONY: all
all: binary docs ## build the binaries and the man pages

.PHONY: binary
binary: ## build the plugin bin/containers-policy-sigstore-plugin and the command bin/containers-policy-sigstore (static, -trimpath, version stamped)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(PLUGIN_BIN) ./cmd/containers-policy-sigstore-plugin
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/containers-policy-sigstore

.PHONY: docs
docs: $(MANPAGES) ## build the man pages (docs/*.1, docs/*.5) with go-md2man

docs/%: docs/%.md
	@test -n "$(GO_MD2MAN)" || { echo "go-md2man not found: run hack/install-deps.sh" >&2; exit 1; }
	$(GO_MD2MAN) -in $< -out $@

.PHONY: run
run: binary ## verify the real public-good keyless signature in testdata and print the verdict
	./$(PLUGIN_BIN) verify < testdata/public-good/request.json

.PHONY: deps
deps: ## install the Debian packages and pinned Go tools the tests need
	hack/install-deps.sh

# package-check installs a .deb into this machine's root through dpkg (and
# purges it): CI is a throwaway root machine, which is why `make test` runs it.
# It runs first so that go test's summary closes the output.
.PHONY: test
test: deps ## run validate, upstream-check, upstream-clients, package-check and the whole test suite (unit, CLI scripts, real registry, skopeo, cosign, podman)
	$(MAKE) validate
	$(MAKE) upstream-check
	$(MAKE) upstream-clients
	$(MAKE) package-check
	$(GO) test $(TESTFLAGS) ./...

.PHONY: test-short
test-short: ## fast tests only: no real registry, skopeo or cosign
	$(GO) test -short ./...

# install copies what `make all` built and never builds: a packager runs it as
# root in a build root, where building would use the wrong user's caches.
.PHONY: install
install: ## install the plugin, the command and the man pages (builds nothing)
	@for b in $(PLUGIN_BIN) $(BIN); do test -x $$b || { echo "$$b is missing: run 'make all' first" >&2; exit 1; }; done
	@for m in $(MANPAGES); do test -f $$m || { echo "$$m is missing: run 'make docs' first" >&2; exit 1; }; done
	install -d -m 0755 $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(BINDIR)
	install -m 0755 $(PLUGIN_BIN) $(DESTDIR)$(PLUGINDIR)/sigstore
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/containers-policy-sigstore
	for m in $(MANPAGES); do \
		s=$${m##*.}; install -d -m 0755 $(DESTDIR)$(MANDIR)/man$$s && \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/ || exit 1; \
	done

.PHONY: uninstall
uninstall: ## remove what install installed
	rm -f $(DESTDIR)$(PLUGINDIR)/sigstore $(DESTDIR)$(BINDIR)/containers-policy-sigstore
	for m in $(notdir $(MANPAGES)); do rm -f $(DESTDIR)$(MANDIR)/man$${m##*.}/$$m; done
	-rmdir $(DESTDIR)$(PLUGINDIR) 2>/dev/null

# ---- packages ----------------------------------------------------------------

# The staging tree nfpm reads: gzipped man pages and changelog, the example
# request rewritten to absolute paths, the licenses of the Go modules linked in.
STAGE := $(DIST)/stage

.PHONY: packages
packages: binary docs ## build the .deb and .rpm with nfpm into $(DIST) (reproducible: SOURCE_DATE_EPOCH)
	hack/package-stage.sh $(STAGE) $(PLUGIN_BIN) $(BIN)
	mkdir -p $(DIST)
	for p in deb rpm; do \
		STAGE=$(STAGE) PKG_VERSION=$(PKG_VERSION) PKG_RELEASE=$(PKG_RELEASE) \
		GOARCH=$$($(GO) env GOARCH) \
		$$(hack/tool.sh nfpm) package --config packaging/nfpm.yaml --packager $$p --target $(DIST)/ || exit 1; \
	done

.PHONY: rpm
rpm: ## build the source and binary RPM from packaging/rpm with rpmbuild (fallback macros, see packaging/README.md)
	packaging/rpm/build.sh $(DIST)/rpmbuild

.PHONY: package-check
package-check: ## build, lint, install, run and remove both packages (root: uses dpkg); see hack/package-check.sh
	hack/package-check.sh

# ---- validate ------------------------------------------------------------------

.PHONY: validate
validate: ## gofmt, gofumpt, go vet, golangci-lint (pinned) on the whole tree; shellcheck on the shell scripts
	@out=$$(gofmt -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofmt needed:"; echo "$$out"; exit 1; }
	@out=$$($$(hack/tool.sh gofumpt) -l $$(git ls-files '*.go')); test -z "$$out" || { echo "gofumpt needed:"; echo "$$out"; exit 1; }
	$(GO) vet ./...
	$$(hack/tool.sh golangci-lint) run ./...
	@scripts=$$(for f in $$(git ls-files hack packaging .ci); do head -n1 "$$f" | grep -qE '^#!.*[/ ](ba|da)?sh( -e)?$$' && echo "$$f"; done); \
		test -n "$$scripts" || { echo "no shell scripts found for shellcheck" >&2; exit 1; }; \
		echo shellcheck $$scripts; shellcheck -x -P SCRIPTDIR $$scripts
	@if git grep -nE '(protocol|design)\.md' -- '*.go' '*.sh' '*.yml' '*.txtar' 'docs/*.md'; then \
		echo "cite the man pages (docs/*.md), not protocol.md or design.md: they are not in this repository" >&2; exit 1; fi

.PHONY: clean
clean: ## remove build outputs
	rm -rf bin $(DIST) $(MANPAGES)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# ---- containers/image patch series ------------------------------------------------

# upstream/containers-image/ is a patch series for go.podman.io/image/v5
# (docs/upstream.md). upstream-check applies it to the pristine module from the
# module proxy, runs containers/image's own tests on the result, then
# hack/upstream-e2e.sh TREE (the benchmark harness, built against the patched
# tree, run once against a real registry). The series' verdicts are proven
# through real podman and skopeo: upstream-clients, then internal/realclients.
UPSTREAM_E2E ?= $(wildcard hack/upstream-e2e.sh)

.PHONY: upstream-check
upstream-check: ## apply the containers/image patch series, run its tests and check the benchmark harness on it
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	hack/upstream-apply.sh "$$tmp/image" && \
	hack/upstream-test.sh "$$tmp/image" && \
	for e2e in $(UPSTREAM_E2E); do $$e2e "$$tmp/image" || exit 1; done

# Real skopeo and podman from their own sources ($$UPSTREAM_SRC, default
# ../shared/upstream-src, else cloned at upstream/clients/sources) with the
# series, and skopeo as released, into bin/upstream/; rebuilt only when what
# goes into them changes. `hack/upstream-clients.sh pin` regenerates the pinned
# go.mod/go.sum in upstream/clients/.
.PHONY: upstream-clients
upstream-clients: ## build patched skopeo and podman (and skopeo as released) from source into bin/upstream/
	hack/upstream-clients.sh

# ---- performance -----------------------------------------------------------------

.PHONY: bench
bench: binary ## time whole plugin processes (metadata, cold verify of the shipped example next to an empty Go process), check against cosign verify, and podman pulls if bin/upstream/podman exists, with hyperfine; and the Go benchmarks
	hack/bench.sh $(PLUGIN_BIN) $(BIN)
	$(GO) test -run '^$$' -bench . -benchmem -benchtime 2s ./plugin
