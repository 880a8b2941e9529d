#!/usr/bin/env bash
# Prepare the tree packaging/nfpm.yaml packs, from what `make binary docs` built.
#
#   hack/package-stage.sh STAGE PLUGIN COMMAND
#
# STAGE/ gets:
#   sigstore                      the plugin binary (copied, so nfpm never reads a file a build rewrites)
#   containers-policy-sigstore    the command binary (the same)
#   man/*.gz                      man pages, gzip -9n (no name, no time: reproducible)
#   changelog.Debian.gz           packaging/debian/changelog, gzip -9n
#   copyright                     packaging/debian/copyright plus one stanza per linked Go module
#   licenses/MODULE/FILE          each module linked into either binary: license and NOTICE files, and Go's own
#   examples/public-good/         testdata/public-good with request.json's paths made absolute,
#                                 so `verify < request.json` works from any directory once installed
# Every file is 0644 and every directory 0755 whatever the umask, because nfpm
# takes modes from the files it reads.
set -euo pipefail

stage=${1:?usage: $0 STAGE PLUGIN COMMAND}
plugin=${2:?usage: $0 STAGE PLUGIN COMMAND}
command=${3:?usage: $0 STAGE PLUGIN COMMAND}
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
examples=/usr/share/containers-policy-sigstore/examples

rm -rf "$stage"
mkdir -p "$stage/man" "$stage/licenses" "$stage/examples/public-good"

install -m 0755 "$plugin" "$stage/sigstore"
install -m 0755 "$command" "$stage/containers-policy-sigstore"

for m in "$root"/docs/*.[1-9]; do
	# shellcheck disable=SC2094 # reads docs/X.1, writes $stage/man/X.1.gz
	gzip -9n <"$m" >"$stage/man/$(basename "$m").gz"
done
gzip -9n <"$root/packaging/debian/changelog" >"$stage/changelog.Debian.gz"

# The example request names its trust file relative to the repository root
# (README's `make run`); installed, it lives under $examples.
pg=$root/testdata/public-good
sed "s#\"testdata/public-good/#\"$examples/public-good/#g" "$pg/request.json" >"$stage/examples/public-good/request.json"
grep -q "\"$examples/public-good/trusted_root.json\"" "$stage/examples/public-good/request.json" ||
	{ echo "package-stage: $pg/request.json names no testdata/public-good/trusted_root.json" >&2; exit 1; }
cp "$pg/trusted_root.json" "$pg/NOTICE" "$stage/examples/public-good/"

# indent FILE: FILE as a DEP-5 continuation (leading space, "." for blank
# lines), with a full Apache-2.0 text (some LICENSE files carry it beside
# another license) replaced by a pointer to common-licenses, as Debian wants.
indent() {
	awk '
		s == 0 && /^[[:space:]]*Apache License[[:space:]]*$/ { s = 1; print "(the Apache License, Version 2.0: /usr/share/common-licenses/Apache-2.0)"; next }
		s == 1 { if (/END OF TERMS AND CONDITIONS/) s = 2; next }
		s == 2 && /APPENDIX: How to apply the Apache License/ { s = 3; next }
		s == 2 && /^[[:space:]]*$/ { next }
		s == 2 { s = 0 }
		s == 3 { if (/limitations under the License\./) s = 0; next }
		{ print }
	' "$1" | sed -e 's/[[:space:]]*$//' -e 's/^$/./' -e 's/^/ /'
}

licenses=$(mktemp)
trap 'rm -f "$licenses"' EXIT
"$root/hack/module-licenses.sh" modcache >"$licenses"
cp "$root/packaging/debian/copyright" "$stage/copyright"
while IFS=$'\t' read -r mod dir files spdx; do
	path=${mod%@*}
	mkdir -p "$stage/licenses/$path"
	for f in $files; do cp "$dir/$f" "$stage/licenses/$path/"; done
	# DEP-5: each statically linked module's license, so the .deb carries every
	# notice in the one file Debian policy points people to. The Apache-2.0 text
	# is the same everywhere (the standalone paragraph points to
	# common-licenses); other licenses carry their copyright lines, so their
	# texts go in verbatim, and so do NOTICE files, which Apache-2.0 says to keep.
	{
		printf '\nFiles: vendor/%s/*\n' "$path"
		printf 'Copyright: the authors of %s (see the license text)\n' "$mod"
		printf 'License: %s\n' "${spdx// AND / and }"
		for f in $files; do
			case ${f,,} in
			notice*) continue ;;
			esac
			[[ $spdx == Apache-2.0 ]] && continue
			printf ' %s:\n .\n' "$f"
			indent "$dir/$f"
		done
		field=first # one Comment field, however many NOTICE files
		for f in $files; do
			case ${f,,} in
			notice*)
				if [[ $field ]]; then printf 'Comment: %s:\n .\n' "$f"; else printf ' .\n %s:\n .\n' "$f"; fi
				indent "$dir/$f"
				field=
				;;
			esac
		done
	} >>"$stage/copyright"
done <"$licenses"
goroot=$(go env GOROOT)
mkdir -p "$stage/licenses/go"
cp "$goroot/LICENSE" "$stage/licenses/go/LICENSE"
{
	printf '\nFiles: GOROOT/src/*\n'
	printf 'Copyright: The Go Authors\n'
	printf 'Comment: the Go standard library and runtime, linked statically\n'
	printf 'License: BSD-3-Clause\n'
	indent "$goroot/LICENSE"
} >>"$stage/copyright"

find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f ! -name sigstore ! -name containers-policy-sigstore -exec chmod 0644 {} +
