#!/usr/bin/env bash
# Install what the tests and packaging checks need. Idempotent; CI runs it as root.
#
#   hack/install-deps.sh
#
# 1. Debian packages ($DEBIAN_PACKAGES in hack/tools.env): one `apt-get update`
#    and one `apt-get install`, skipped when all of them are already installed.
# 2. Pinned Go tools (hack/tools.env), each with `go install PKG@VERSION` into
#    its own directory $CPS_TOOLS/<name>-<version>/ (default
#    CPS_TOOLS=${XDG_CACHE_HOME:-$HOME/.cache}/cps-tools), skipped when that
#    binary is there. A
#    version bump in tools.env therefore builds the new version next to the old.
#
# Needs: Debian bookworm (or later) with Go on PATH; network access to Debian's
# archive and the Go module proxy. Prints one summary line at the end.
# hack/tool.sh NAME prints the path of an installed tool.
set -euo pipefail

hack=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools.env
. "$hack/tools.env"
CPS_TOOLS=${CPS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/cps-tools}

installed=()
found=()

log() { printf 'install-deps: %s\n' "$*" >&2; }

# ---- Debian packages --------------------------------------------------------

IFS=, read -r -a debs <<<"$DEBIAN_PACKAGES"
missing=()
for p in "${debs[@]}"; do
	if dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed; then
		found+=("$p")
	else
		missing+=("$p")
	fi
done
if ((${#missing[@]})); then
	if [[ $(id -u) != 0 ]]; then
		log "not root: cannot apt-get install ${missing[*]}"
		exit 1
	fi
	log "apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
	installed+=("${missing[@]}")
fi

# ---- Go tools ---------------------------------------------------------------

if ! command -v go >/dev/null; then
	log "go is not on PATH; install Go 1.26 first"
	exit 1
fi
# Build with the Go that is here (never download a toolchain) and without cgo,
# so the result does not depend on a C compiler being installed. GOFLAGS is
# set, not inherited: the caller's (e.g. the Makefile's -tags, or -mod=mod)
# must not change how the pinned tools build.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-trimpath

# go_tool NAME PKG VERSION BINARY
go_tool() {
	local name=$1 pkg=$2 version=$3 bin=$4
	local dir=$CPS_TOOLS/$name-$version
	if [[ -x $dir/$bin ]]; then
		found+=("$name@$version")
		return
	fi
	log "go install $pkg@$version"
	local start=$SECONDS tmp=$dir.tmp.$$
	rm -rf "$tmp"
	mkdir -p "$tmp"
	GOBIN=$tmp go install "$pkg@$version"
	# Move into place only when complete, so an interrupted build is retried.
	rm -rf "$dir"
	mv "$tmp" "$dir"
	installed+=("$name@$version($((SECONDS - start))s)")
}

go_tool cosign "$COSIGN_PKG" "$COSIGN_VERSION" cosign
go_tool nfpm "$NFPM_PKG" "$NFPM_VERSION" nfpm
go_tool golangci-lint "$GOLANGCI_LINT_PKG" "$GOLANGCI_LINT_VERSION" golangci-lint
go_tool gofumpt "$GOFUMPT_PKG" "$GOFUMPT_VERSION" gofumpt
go_tool go-md2man "$GO_MD2MAN_PKG" "$GO_MD2MAN_VERSION" go-md2man

echo "install-deps: installed: ${installed[*]:-nothing}; found: ${found[*]:-nothing} (tools in $CPS_TOOLS, ${SECONDS}s)"
