# containers-policy-sigstore. `make help` lists the targets.
#
# The two set-up commands of README.md:
#   make run    build the binary and verify the shipped public-good example
#   make test   install what the tests need (hack/install-deps.sh), run them all

GO        ?= go
BUILDTAGS ?= containers_image_openpgp
# containers/image's signature package needs the tag to stay free of cgo/gpgme;
# exporting it through GOFLAGS makes plain `go test ./...` in this shell agree.
export GOFLAGS := -tags=$(BUILDTAGS) $(GOFLAGS)

BIN       := bin/containers-policy-sigstore
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS   := -s -w -X github.com/policy-plugins/sigstore/plugin.Version=$(VERSION)
TESTFLAGS ?= -timeout 45m

.PHONY: all
all: binary

.PHONY: binary
binary: ## build bin/containers-policy-sigstore (static, -trimpath, version stamped)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/containers-policy-sigstore

.PHONY: run
run: binary ## verify the real public-good keyless signature in testdata and print the verdict
	./$(BIN) verify < testdata/public-good/request.json

.PHONY: deps
deps: ## install the Debian packages and pinned Go tools the tests need
	hack/install-deps.sh

.PHONY: test
test: deps ## run the whole test suite (unit, CLI scripts, real registry, skopeo, cosign)
	$(GO) test $(TESTFLAGS) ./...

.PHONY: test-short
test-short: ## fast tests only: no real registry, skopeo or cosign
	$(GO) test -short ./...

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'
