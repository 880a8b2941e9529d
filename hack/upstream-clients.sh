#!/bin/bash
# upstream-clients.sh [build|pin] [CLIENT...]: real skopeo and podman, built
# from their own sources against the containers/image tree that
# hack/upstream-apply.sh makes (`make upstream-clients`).
#
# Clients (all by default), into $UPSTREAM_CLIENTS_OUT (default bin/upstream/):
#   skopeo           skopeo + the patched go.podman.io/image/v5
#   podman           podman + the patched image module, buildah replaced by its
#                    source copy (its pinned pseudo-version is not served)
#   skopeo-pristine  skopeo + go.podman.io/image/v5 as released, for the cases
#                    where an unpatched client must refuse a plugin policy
#
# Sources: $UPSTREAM_SRC/{skopeo,podman,buildah} (default ../shared/upstream-src,
# read-only snapshots, each with a COMMIT file); a project missing there is
# cloned at the commit upstream/clients/sources names into
# $UPSTREAM_CLIENTS_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/cps-upstream-clients).
# Either way the commit must be the one upstream/clients/sources pins.
#
# Each client's tree is a copy of its source with upstream/clients/CLIENT/*.patch
# applied (patch -p1, no fuzz; the first line of each says why) and the
# go.mod/go.sum pinned in upstream/clients/CLIENT/ copied in, then built with
# -mod=readonly: a later state of the module proxy cannot change the graph,
# and go.sum checks every module it serves.
#
#   build (default)  build what changed. A client is rebuilt only when the hash
#                    of what goes into it (series, patches, pins, sources, this
#                    script, Go version, C compiler) differs from the one stamped
#                    next to its binary, and no build with that hash is in
#                    $UPSTREAM_CLIENTS_CACHE/bin (the newest three per client).
#   key              print each client's key (resolving, maybe cloning, sources)
#   pin              regenerate the pins: `go mod tidy` of each prepared tree
#                    (with relative replace directives), copied back into
#                    upstream/clients/CLIENT/go.{mod,sum}. Run it after a change
#                    of the series' VERSION, a source commit, or a client patch.
#
# A failure names the client and the step.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
clients_dir=${UPSTREAM_CLIENTS_DIR:-$here/upstream/clients}
series_dir=${UPSTREAM_SERIES_DIR:-$here/upstream/containers-image}
src_root=${UPSTREAM_SRC:-$here/../shared/upstream-src}
out=${UPSTREAM_CLIENTS_OUT:-$here/bin/upstream}
cache=${UPSTREAM_CLIENTS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cps-upstream-clients}

mode=build
case ${1:-} in
build | pin | key)
	mode=$1
	shift
	;;
-h | --help)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
esac
all_clients=(skopeo podman skopeo-pristine)
if (($#)); then
	clients=("$@")
else
	clients=("${all_clients[@]}")
fi
for c in "${clients[@]}"; do
	case $c in
	skopeo | podman | skopeo-pristine) ;;
	*)
		echo "upstream-clients: unknown client $c (want: ${all_clients[*]})" >&2
		exit 2
		;;
	esac
done

# The tags of skopeo's and podman's own builds without gpgme, btrfs,
# devicemapper or sequoia (none of which the plugin path needs); podman adds
# remote_disabled, so that the binary is the local engine only.
tags="containers_image_openpgp exclude_graphdriver_btrfs exclude_graphdriver_devicemapper containers_image_sequoia_disable"
podman_tags="$tags remote_disabled"

# Nothing of the caller's Go setup (the Makefile's GOFLAGS, a go.work) reaches
# the clients' builds; the Go here is the one that builds them.
export GOTOOLCHAIN=local GOWORK=off GOFLAGS=
unset GOOS GOARCH

log() { printf 'upstream-clients: %s\n' "$*" >&2; }

# fail CLIENT STEP: the last line of every failure.
fail() {
	log "FAILED: $1: $2"
	exit 1
}

# step CLIENT STEP CMD...: CMD's output goes to the caller's stderr; a failure
# names the client and the step.
step() {
	local client=$1 what=$2
	shift 2
	"$@" >&2 || fail "$client" "$what"
}

pinned_commit() {
	awk -v p="$1" '$1 == p { print $3 }' "$clients_dir/sources"
}

pinned_repo() {
	awk -v p="$1" '$1 == p { print $2 }' "$clients_dir/sources"
}

# source_dir PROJECT CLIENT: the project's source tree at its pinned commit.
source_dir() {
	local project=$1 client=$2 commit
	commit=$(pinned_commit "$project")
	[[ -n $commit ]] || fail "$client" "upstream/clients/sources names no commit for $project"
	if [[ -d $src_root/$project ]]; then
		local have
		have=$(tr -d '[:space:]' <"$src_root/$project/COMMIT" 2>/dev/null || true)
		[[ $have == "$commit" ]] ||
			fail "$client" "$src_root/$project is at commit '${have:-unknown}', upstream/clients/sources pins $commit"
		echo "$src_root/$project"
		return
	fi
	# No snapshot: clone the pinned commit once into the cache, without the
	# vendor/ directory (the pinned go.mod/go.sum are what the build uses).
	local dir=$cache/src/$project-$commit
	if [[ ! -f $dir/COMMIT ]]; then
		local repo tmp=$dir.tmp.$$
		repo=$(pinned_repo "$project")
		log "$project: $src_root/$project is absent: cloning $repo at $commit"
		rm -rf "$tmp"
		mkdir -p "$tmp"
		step "$client" "git clone $repo $commit" git -C "$tmp" init -q
		step "$client" "git clone $repo $commit" git -C "$tmp" fetch -q --depth 1 "$repo" "$commit"
		step "$client" "git clone $repo $commit" git -C "$tmp" -c advice.detachedHead=false checkout -q FETCH_HEAD
		rm -rf "$tmp/.git" "$tmp/vendor"
		echo "$commit" >"$tmp/COMMIT"
		rm -rf "$dir"
		mv "$tmp" "$dir"
	fi
	echo "$dir"
}

# hash_tree DIR: one hash of every file's path and content under DIR.
hash_tree() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-64
}

# file_hash FILE: its content's hash only, so that keys agree between clones.
file_hash() {
	sha256sum <"$1" | cut -c1-64
}

# series_hash: the files hack/upstream-apply.sh reads, and the script itself.
series_hash() {
	{
		file_hash "$here/hack/upstream-apply.sh"
		file_hash "$series_dir/VERSION"
		file_hash "$series_dir/series"
		(cd "$series_dir" && sha256sum -- *.patch)
	} | sha256sum | cut -c1-64
}

# projects CLIENT: the source projects a client is built from.
projects() {
	case $1 in
	podman) echo podman buildah ;;
	*) echo skopeo ;;
	esac
}

# key CLIENT: the hash of everything that goes into a client's binary.
key() {
	local client=$1 p
	{
		echo "client $client"
		file_hash "$here/hack/upstream-clients.sh"
		if [[ $client == skopeo-pristine ]]; then
			cat "$series_dir/VERSION"
		else
			series_hash
		fi
		hash_tree "$clients_dir/$client"
		for p in $(projects "$client"); do
			echo "$p $(hash_tree "${srcs[$p]}")"
		done
		go env GOVERSION GOARCH
		[[ $client != podman ]] || { "$(go env CC)" --version | head -n1; }
	} | sha256sum | cut -c1-64
}

# apply_patches CLIENT TREE: upstream/clients/CLIENT/*.patch in name order.
apply_patches() {
	local client=$1 tree=$2 p out
	for p in "$clients_dir/$client"/*.patch; do
		[[ -f $p ]] || continue
		if ! out=$(patch -p1 -d "$tree" --forward --batch --fuzz=0 --no-backup-if-mismatch -r - <"$p" 2>&1); then
			echo "$out" >&2
			fail "$client" "patch $(basename "$p") does not apply"
		fi
		log "$client: applied $(basename "$p"): $(head -n1 "$p")"
	done
}

work=
# shellcheck disable=SC2317 # run by the trap
cleanup() { [[ -z $work ]] || rm -rf "$work"; }
trap cleanup EXIT
# A signal exits through the EXIT trap, so the temporary tree goes too.
trap 'exit 130' INT
trap 'exit 143' TERM

# image_tree CLIENT: the patched image module, made once per run.
image_tree() {
	if [[ ! -d $work/image ]]; then
		step "$1" "hack/upstream-apply.sh (the containers/image series)" "$here/hack/upstream-apply.sh" "$work/image"
	fi
}

# prepare CLIENT: $work/CLIENT, a writable copy of the client's source with
# its patches; for podman also $work/buildah, for the replace directive.
prepare() {
	local client=$1 src
	src=${srcs[$(projects "$client" | cut -d' ' -f1)]}
	mkdir -p "$work/$client"
	cp -R "$src/." "$work/$client/"
	chmod -R u+w "$work/$client"
	if [[ $client == podman ]]; then
		mkdir -p "$work/buildah"
		cp -R "${srcs[buildah]}/." "$work/buildah/"
		chmod -R u+w "$work/buildah"
	fi
	apply_patches "$client" "$work/$client"
	[[ $client == skopeo-pristine ]] || image_tree "$client"
}

# pin CLIENT: go mod tidy against the prepared tree, saved as the client's pins.
pin() {
	local client=$1 dir=$work/$1 version
	version=$(tr -d '[:space:]' <"$series_dir/VERSION")
	case $client in
	skopeo) step "$client" "go mod edit" go -C "$dir" mod edit -replace go.podman.io/image/v5=../image ;;
	podman) step "$client" "go mod edit" go -C "$dir" mod edit -replace go.podman.io/image/v5=../image -replace go.podman.io/buildah=../buildah ;;
	skopeo-pristine) step "$client" "go mod edit" go -C "$dir" mod edit -require "go.podman.io/image/v5@$version" ;;
	esac
	# -e: the snapshots leave the projects' tests out, so some test-only
	# imports cannot resolve; the build below proves the graph is complete.
	step "$client" "go mod tidy" env GOFLAGS=-mod=mod go -C "$dir" mod tidy -e
	cp "$dir/go.mod" "$dir/go.sum" "$clients_dir/$client/"
	log "$client: pinned upstream/clients/$client/go.mod, go.sum"
}

# check_pins CLIENT: before any work, that the client's pins are there.
check_pins() {
	local f
	for f in go.mod go.sum; do
		[[ -f $clients_dir/$1/$f ]] ||
			fail "$1" "upstream/clients/$1/$f is missing: run hack/upstream-clients.sh pin $1"
	done
}

# build CLIENT: the binary into $out/CLIENT, with the pinned module graph.
build() {
	local client=$1 dir=$work/$1
	cp "$clients_dir/$client/go.mod" "$clients_dir/$client/go.sum" "$dir/"
	local cgo=0 t=$tags pkg=./cmd/skopeo
	if [[ $client == podman ]]; then
		# podman's rootless re-exec and its SQLite database are cgo.
		cgo=1 t=$podman_tags pkg=./cmd/podman
	fi
	local start=$SECONDS
	# A "missing go.sum entry" or "updates to go.mod needed" here means the
	# pins no longer fit the tree (e.g. the series changed its go.mod).
	step "$client" "go build $pkg (tags: $t; if go.mod/go.sum are stale: hack/upstream-clients.sh pin $client)" env CGO_ENABLED=$cgo GOFLAGS=-mod=readonly \
		go -C "$dir" build -trimpath -tags "$t" -ldflags "-s -w" -o "$out/.$client.tmp" "$pkg"
	mv "$out/.$client.tmp" "$out/$client"
	log "$client: built $out/$client ($((SECONDS - start))s)"
}

# main runs the whole script from one parsed function, so that editing this
# file while it runs (a git checkout during a long build) cannot change what runs.
main() {
	mkdir -p "$out"
	work=$(mktemp -d "${TMPDIR:-/tmp}/upstream-clients.XXXXXX")
	start=$SECONDS
	# Resolved here, in this shell, so that a failed clone stops the script.
	declare -gA srcs
	for client in "${clients[@]}"; do
		for p in $(projects "$client"); do
			[[ -n ${srcs[$p]:-} ]] || srcs[$p]=$(source_dir "$p" "$client")
		done
	done
	for client in "${clients[@]}"; do
		if [[ $mode == pin ]]; then
			prepare "$client"
			pin "$client"
			continue
		fi
		k=$(key "$client")
		if [[ $mode == key ]]; then
			echo "$client $k"
			continue
		fi
		check_pins "$client"
		if [[ -x $out/$client && -f $out/.$client.key && $(cat "$out/.$client.key") == "$k" ]]; then
			log "$client: up to date ($out/$client, key ${k:0:12})"
			continue
		fi
		rm -f "$out/.$client.key"
		# A build with this key from an earlier run, in any clone on this machine
		# (CI clones afresh, into another directory).
		cached=$cache/bin/$client-$k
		if [[ -x $cached ]]; then
			cp "$cached" "$out/.$client.tmp"
			mv "$out/.$client.tmp" "$out/$client"
			log "$client: from the cache ($cached)"
		else
			prepare "$client"
			build "$client"
			mkdir -p "$cache/bin"
			cp "$out/$client" "$cached.tmp.$$"
			mv "$cached.tmp.$$" "$cached"
			# Keep the newest three builds of each client.
			# (64 ?: a key, so that skopeo's pattern leaves skopeo-pristine's alone).
			find "$cache/bin" -maxdepth 1 -name "$client-$(printf '?%.0s' {1..64})" -printf '%T@ %p\n' |
				sort -rn | tail -n +4 | cut -d' ' -f2- | xargs -r rm -f
		fi
		echo "$k" >"$out/.$client.key"
	done
	log "done: ${clients[*]} in $out ($((SECONDS - start))s)"
}

main
exit
