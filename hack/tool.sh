#!/usr/bin/env bash
# Print the absolute path of a pinned tool installed by hack/install-deps.sh.
#
#   hack/tool.sh cosign|nfpm|golangci-lint|gofumpt|go-md2man
#
# Exits 1 with a message naming hack/install-deps.sh when it is not installed.
# Makefile use: COSIGN := $(shell hack/tool.sh cosign)
set -euo pipefail

hack=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tools.env
. "$hack/tools.env"
CPS_TOOLS=${CPS_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/cps-tools}

case ${1:-} in
cosign) version=$COSIGN_VERSION ;;
nfpm) version=$NFPM_VERSION ;;
golangci-lint) version=$GOLANGCI_LINT_VERSION ;;
gofumpt) version=$GOFUMPT_VERSION ;;
go-md2man) version=$GO_MD2MAN_VERSION ;;
*)
	echo "usage: $0 cosign|nfpm|golangci-lint|gofumpt|go-md2man" >&2
	exit 2
	;;
esac

path=$CPS_TOOLS/$1-$version/$1
if [[ ! -x $path ]]; then
	echo "$0: $1 $version is not installed at $path; run hack/install-deps.sh" >&2
	exit 1
fi
echo "$path"
