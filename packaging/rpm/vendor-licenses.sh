#!/bin/sh
# go-vendor-tools stand-in for the fallback build (macros.fallback), run from
# the unpacked source tree after Source1 put vendor/ there.
#
#   vendor-licenses.sh install BUILDROOT LICENSEDIR FILELIST
#       install LICENSE and every vendored module's license and NOTICE files
#       under BUILDROOT/LICENSEDIR, and write the %license file list
#   vendor-licenses.sh check "SPDX AND ..."
#       fail unless the expression equals the licenses found in vendor/
#       (hack/module-licenses.sh classifies them), as go_vendor_license_check does
set -eu

case ${1:-} in
install)
	buildroot=$2 licensedir=$3 filelist=$4
	install -D -p -m 0644 LICENSE "$buildroot$licensedir/LICENSE"
	echo "%license $licensedir/LICENSE" >"$filelist"
	# Through a file, so that a module-licenses.sh failure stops the build.
	hack/module-licenses.sh vendor vendor >vendor-licenses.tsv
	while IFS="$(printf '\t')" read -r _ dir files _; do
		for f in $files; do
			install -D -p -m 0644 "$dir/$f" "$buildroot$licensedir/$dir/$f"
			echo "%license $licensedir/$dir/$f" >>"$filelist"
		done
	done <vendor-licenses.tsv
	;;
check)
	hack/module-licenses.sh vendor vendor >vendor-licenses.tsv
	want=$(cut -f4 vendor-licenses.tsv | sed 's/ AND /\n/g')
	# The project's own license is part of the expression too.
	# shellcheck disable=SC2086 # split into one license identifier per word
	want=$(printf '%s\n' $want Apache-2.0 | grep -v '^AND$' | LC_ALL=C sort -u | paste -sd' ' | sed 's/ / AND /g')
	# shellcheck disable=SC2086 # likewise
	got=$(printf '%s\n' $2 | grep -v '^AND$' | LC_ALL=C sort -u | paste -sd' ' | sed 's/ / AND /g')
	if [ "$want" != "$got" ]; then
		echo "License: says '$got' but the vendored modules need '$want'" >&2
		exit 1
	fi
	echo "License: $got matches vendor/"
	;;
*)
	echo "usage: $0 install BUILDROOT LICENSEDIR FILELIST | check EXPRESSION" >&2
	exit 2
	;;
esac
