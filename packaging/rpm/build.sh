#!/usr/bin/env bash
# Build the source and binary RPM from containers-policy-sigstore.spec with
# rpmbuild, outside Fedora: packaging/rpm/macros.fallback stands in for
# go-rpm-macros and go-vendor-tools, and the two sources are made here.
#
#   packaging/rpm/build.sh OUTDIR [rpmbuild options, e.g. --without check]
#
# Source0 is `git archive` of $RPM_TREEISH (default HEAD: the committed tree,
# as a release tarball would be; uncommitted changes are not in it). Source1 is
# `go mod tidy && go mod vendor` of that tree (vendor/, go.mod, go.sum), from
# the module cache or the Go proxy, as go_vendor_archive makes it: the
# build itself then runs with GOPROXY=off, so it needs no network, as in koji.
# BuildRequires are not installed here (--nodeps); Go and go-md2man come from
# PATH and hack/tools.env.
set -euo pipefail

out=${1:?usage: $0 OUTDIR [rpmbuild options]}
shift
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
spec=$root/packaging/rpm/containers-policy-sigstore.spec
treeish=${RPM_TREEISH:-HEAD}

version=$(rpmspec -q --srpm --qf '%{version}' --load "$root/packaging/rpm/macros.fallback" "$spec")
archivename=sigstore-$version
mkdir -p "$out"
out=$(cd "$out" && pwd)
top=$out/top
rm -rf "$top"
mkdir -p "$top"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}

# Source0 and Source1, named as %gometa names them.
git -C "$root" archive --format=tar.gz --prefix="$archivename/" -o "$top/SOURCES/$archivename.tar.gz" "$treeish"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -C "$work" -xzf "$top/SOURCES/$archivename.tar.gz"
# As go_vendor_archive does (its `tidy` option, on by default): tidy, then
# vendor, in this throwaway copy, and put go.mod and go.sum in the archive
# with vendor/ so that %setup -a1 makes them agree. The repository's own
# go.mod is never touched.
(cd "$work/$archivename" && go mod tidy && go mod vendor)
tar -C "$work/$archivename" --sort=name --owner=0 --group=0 --numeric-owner \
	--mtime="@${SOURCE_DATE_EPOCH:-0}" -cjf "$top/SOURCES/$archivename-vendor.tar.bz2" vendor go.mod go.sum
cp "$root/packaging/rpm/go-vendor-tools.toml" "$top/SOURCES/"
cp "$spec" "$top/SPECS/"

# go-md2man from hack/tools.env when installed there, else from PATH.
md2man=$("$root/hack/tool.sh" go-md2man 2>/dev/null || true)
if [[ -n $md2man ]]; then
	PATH=$(dirname "$md2man"):$PATH
	export PATH
fi

# The Makefile's GOFLAGS (build tags) must not leak in: the spec sets its own.
env -u GOFLAGS GOTOOLCHAIN=local rpmbuild -ba --nodeps \
	--load "$root/packaging/rpm/macros.fallback" \
	--define "_topdir $top" \
	--define "use_source_date_epoch_as_buildtime 1" \
	--define "clamp_mtime_to_source_date_epoch 1" \
	"$@" "$top/SPECS/containers-policy-sigstore.spec"

find "$top/RPMS" "$top/SRPMS" -name '*.rpm' -exec cp {} "$out/" \;
ls "$out"/*.rpm
