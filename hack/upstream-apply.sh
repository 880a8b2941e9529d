#!/bin/bash
# upstream-apply.sh DEST: a patched go.podman.io/image/v5 module tree at DEST.
#
# Copies the pristine module, at the version in upstream/containers-image/VERSION,
# out of the Go module cache (downloading it through the module proxy if needed),
# makes the copy writable and applies upstream/containers-image/series in order
# with `patch -p1`. A patch that does not apply cleanly (any rejected hunk, or
# fuzz) fails the script, naming the patch. DEST must not exist or be empty.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
series_dir=${UPSTREAM_SERIES_DIR:-$here/upstream/containers-image}
dest=${1:?usage: upstream-apply.sh DEST}

if [ -e "$dest" ] && [ -n "$(ls -A "$dest" 2>/dev/null)" ]; then
	echo "upstream-apply: $dest exists and is not empty" >&2
	exit 1
fi

version=$(tr -d '[:space:]' <"$series_dir/VERSION")
module=go.podman.io/image/v5
# Outside any module, so that the project's go.mod (and GOFLAGS) play no part.
dir=$(cd / && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ -z "$dir" ] || [ ! -f "$dir/go.mod" ]; then
	echo "upstream-apply: go mod download $module@$version gave no module directory" >&2
	exit 1
fi

mkdir -p "$dest"
cp -R "$dir/." "$dest/"
chmod -R u+w "$dest"

n=0
while read -r p; do
	p=${p%%#*}
	p=$(echo "$p" | tr -d '[:space:]')
	[ -n "$p" ] || continue
	if [ ! -f "$series_dir/$p" ]; then
		echo "upstream-apply: series names $p, which does not exist" >&2
		exit 1
	fi
	# --fuzz=0: a hunk applies exactly where it was written or the patch fails.
	if ! out=$(patch -p1 -d "$dest" --forward --batch --fuzz=0 --no-backup-if-mismatch -r - <"$series_dir/$p" 2>&1); then
		echo "$out" >&2
		echo "upstream-apply: FAILED: $p does not apply to $module@$version" >&2
		exit 1
	fi
	n=$((n + 1))
done <"$series_dir/series"
echo "upstream-apply: $module@$version + $n patches -> $dest"
