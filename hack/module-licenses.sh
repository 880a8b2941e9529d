#!/usr/bin/env bash
# List the Go modules linked into the plugin or the command with their license files and an
# SPDX identifier, so packages can ship the notices that MIT, BSD and Apache-2.0
# require with a binary, and the RPM License: tag can be checked.
#
#   hack/module-licenses.sh modcache       # modules of both binaries (./cmd/...), from the module cache
#   hack/module-licenses.sh vendor DIR     # modules vendored in DIR (DIR/modules.txt), for rpmbuild
#   hack/module-licenses.sh expression ... # the same input, printed as one sorted "A AND B" expression
#
# Output: one line per module, tab-separated: module@version, directory,
# license files (space-separated, relative to the directory), SPDX expression.
# Fails when a module has no license file or one the classifier does not know:
# a new dependency must be looked at by a person, not waved through.
set -euo pipefail

die() {
	echo "module-licenses: $*" >&2
	exit 1
}

# classify FILE: the SPDX identifiers of the license texts in FILE ("MIT AND
# Apache-2.0" for the files that carry two). Deliberately small: the project's
# dependency graph uses these, and anything else stops the build.
classify() {
	local f=$1 ids=()
	grep -q 'Apache License' "$f" && grep -q 'Version 2.0' "$f" && ids+=(Apache-2.0)
	grep -q 'Permission is hereby granted, free of charge' "$f" && ids+=(MIT)
	if grep -q 'Redistribution and use in source and binary forms' "$f"; then
		if grep -qiE 'Neither the name|names of its contributors|name of the copyright holder' "$f"; then
			ids+=(BSD-3-Clause)
		else
			ids+=(BSD-2-Clause)
		fi
	fi
	grep -q 'Mozilla Public License Version 2.0' "$f" && ids+=(MPL-2.0)
	grep -qE 'Permission to use, copy, modify, and(/or)? distribute' "$f" && ids+=(ISC)
	# Documentation licenses some modules carry beside the code's (go-digest).
	grep -q 'Attribution-ShareAlike 4.0 International' "$f" && ids+=(CC-BY-SA-4.0)
	((${#ids[@]})) || return 1
	local IFS=' '
	printf '%s' "${ids[*]}" | sed 's/ / AND /g'
}

# describe MODULE DIR: one output line.
describe() {
	local mod=$1 dir=$2 files=() spdx=() f id
	[[ -d $dir ]] || die "$mod: no directory $dir"
	while IFS= read -r f; do
		files+=("$f")
	done < <(cd "$dir" && find . -maxdepth 1 -type f \( -iname 'licen[cs]e*' -o -iname 'copying*' -o -iname 'notice*' \) ! -name '*.go' -printf '%P\n' | LC_ALL=C sort)
	((${#files[@]})) || die "$mod: no license file in $dir"
	for f in "${files[@]}"; do
		case ${f,,} in notice*) continue ;; esac
		id=$(classify "$dir/$f") || die "$mod: cannot classify $dir/$f; add its license to hack/module-licenses.sh"
		spdx+=("$id")
	done
	((${#spdx[@]})) || die "$mod: only NOTICE files in $dir"
	printf '%s\t%s\t%s\t%s\n' "$mod" "$dir" "${files[*]}" "$(printf '%s\n' "${spdx[@]}" | sed 's/ AND /\n/g' | LC_ALL=C sort -u | paste -sd' ' | sed 's/ / AND /g')"
}

modcache() {
	local root
	root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	cd "$root"
	# Both binaries ship in one package: the command's modules are a superset of
	# the plugin's today, but each is listed in case that changes.
	go list -deps -f '{{with .Module}}{{if not .Main}}{{.Path}}@{{.Version}} {{.Dir}}{{end}}{{end}}' \
		./cmd/containers-policy-sigstore-plugin ./cmd/containers-policy-sigstore |
		LC_ALL=C sort -u | while read -r mod dir; do describe "$mod" "$dir"; done
}

vendor() {
	local dir=$1
	[[ -f $dir/modules.txt ]] || die "$dir/modules.txt not found"
	# "# module version" lines; "## explicit" and package lines are skipped.
	awk '$1 == "#" && NF >= 3 && $2 !~ /^#/ { print $2, $3 }' "$dir/modules.txt" | LC_ALL=C sort -u |
		while read -r path version; do
			# A module with no vendored package has no directory: nothing of it is built.
			[[ -d $dir/$path ]] || continue
			describe "$path@$version" "$dir/$path"
		done
}

case ${1:-} in
modcache) modcache ;;
vendor) vendor "${2:?usage: $0 vendor DIR}" ;;
expression)
	shift
	"$0" "$@" | cut -f4 | sed 's/ AND /\n/g' | LC_ALL=C sort -u | paste -sd' ' | sed 's/ / AND /g'
	;;
*)
	echo "usage: $0 modcache | vendor DIR | expression modcache|vendor DIR" >&2
	exit 2
	;;
esac
