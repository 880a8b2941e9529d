#!/bin/bash
# upstream-regen.sh: edit the containers/image patch series as git commits.
#
#   hack/upstream-regen.sh init DIR     a git repository at DIR: the pristine module
#                                       (commit tagged "pristine"), then one commit
#                                       per patch of the series (git am)
#   ... edit, commit, rebase -i in DIR: one concern a commit, messages for upstream
#       reviewers, "git commit -s" ...
#   hack/upstream-vendor-host.sh DIR    refresh the generated protocol host copy
#                                       (then amend the commit that added it)
#   hack/upstream-regen.sh export DIR   rewrite upstream/containers-image/*.patch and
#                                       series from pristine..HEAD (git format-patch)
#   hack/upstream-regen.sh refresh-host after protocol/ changed: all of the above in a
#                                       scratch directory, folding the regenerated host
#                                       copy into the patch that adds it
#
# Paths in the patches are relative to the module root, so `patch -p1` applies them
# to the module as the proxy serves it, and `git am --directory=image` applies them
# in containers/container-libs.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
series_dir=$here/upstream/containers-image
cmd=${1:?usage: upstream-regen.sh init|export DIR, or refresh-host}
if [ "$cmd" = refresh-host ]; then
	scratch=$(mktemp -d)
	trap 'rm -rf "$scratch"' EXIT
	"$0" init "$scratch/image" >/dev/null
	"$here/hack/upstream-vendor-host.sh" "$scratch/image"
	git -C "$scratch/image" add -A
	if git -C "$scratch/image" diff --cached --quiet; then
		echo "upstream-regen: the host copy in the series is up to date"
		exit 0
	fi
	first=$(git -C "$scratch/image" rev-list --reverse pristine..HEAD | sed -n 1p) # sed reads all: no SIGPIPE under pipefail
	git -C "$scratch/image" -c user.name="$(git -C "$here" config user.name)" -c user.email="$(git -C "$here" config user.email)" \
		commit -q --fixup="$first"
	GIT_SEQUENCE_EDITOR=: git -C "$scratch/image" -c user.name="$(git -C "$here" config user.name)" -c user.email="$(git -C "$here" config user.email)" \
		rebase -q -i --autosquash pristine
	"$0" export "$scratch/image"
	exit 0
fi
dir=${2:?usage: upstream-regen.sh init|export DIR}
name=$(git -C "$here" config user.name)
email=$(git -C "$here" config user.email)

case $cmd in
init)
	# The pristine module, as upstream-apply.sh copies it, with an empty series.
	empty=$(mktemp -d)
	trap 'rm -rf "$empty"' EXIT
	cp "$series_dir/VERSION" "$empty/VERSION"
	: >"$empty/series"
	UPSTREAM_SERIES_DIR=$empty "$here/hack/upstream-apply.sh" "$dir"
	git -C "$dir" init -q
	git -C "$dir" add -A
	git -C "$dir" -c user.name="$name" -c user.email="$email" commit -q -m "go.podman.io/image/v5 $(cat "$series_dir/VERSION") (pristine)"
	git -C "$dir" tag pristine
	while read -r p; do
		p=${p%%#*}
		p=$(echo "$p" | tr -d '[:space:]')
		[ -n "$p" ] || continue
		git -C "$dir" -c user.name="$name" -c user.email="$email" am -q --committer-date-is-author-date "$series_dir/$p"
	done <"$series_dir/series"
	git -C "$dir" log --oneline pristine..HEAD
	;;
export)
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
	# --zero-commit and --no-signature: the files depend on the changes only.
	git -C "$dir" format-patch -q --zero-commit --no-signature -o "$out" pristine..HEAD
	rm -f "$series_dir"/*.patch
	cp "$out"/*.patch "$series_dir/"
	{
		echo "# Applied in order by hack/upstream-apply.sh (patch -p1, module root)."
		echo "# Regenerate with hack/upstream-regen.sh; see README.md."
		for p in "$out"/*.patch; do basename "$p"; done
	} >"$series_dir/series"
	cat "$series_dir/series"
	;;
*)
	echo "usage: upstream-regen.sh init|export DIR" >&2
	exit 2
	;;
esac
