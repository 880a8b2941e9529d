#!/usr/bin/env bash
# make package-check: build the .deb and .rpm, prove them reproducible, lint
# them, install them, run the installed plugin and command, remove them.
#
#   hack/package-check.sh          (as root: it installs the .deb through dpkg)
#
# Steps, each fatal:
#   1. versions: Makefile PKG_VERSION/PKG_RELEASE, the RPM spec and
#      packaging/debian/changelog agree; `make install` and `uninstall` into a
#      DESTDIR give the layout and leave nothing
#   2. nfpm .deb and .rpm built twice with SOURCE_DATE_EPOCH: identical bytes
#   3. .deb: dpkg-deb -I/-c, lintian --fail-on error,warning (overrides shipped
#      in the package), dpkg -i, run the plugin (metadata, a real verify, the
#      protocol's file rules, no commands for people) and the command (its own
#      binary: --version, verify, check and lint through the installed
#      plugin), man -w, systemd-analyze verify of the
#      trusted-root service and timer (installed, not enabled), dpkg -P,
#      nothing left behind
#   4. .rpm (nfpm): rpm -qplv, install into a scratch --root, rpm -V, run the
#      installed plugin and command from there, erase
#   5. .rpm (rpmbuild, packaging/rpm/build.sh): rpmlint with the checked-in
#      rpmlintrc, then the same scratch-root cycle
# Nothing is ever unpacked into the real root except by dpkg, and rpm only
# ever writes below a scratch --root.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
name=containers-policy-sigstore
plugin=/usr/lib/containers/policy-plugins.d/sigstore
command=/usr/bin/$name
examples=/usr/share/containers-policy-sigstore/examples
unitdir=/usr/lib/systemd/system
start=$SECONDS
declare -a timings=()

log() { printf '\npackage-check: %s\n' "$*" >&2; }
die() {
	printf 'package-check: FAIL: %s\n' "$*" >&2
	exit 1
}
step() {
	timings+=("$1 $((SECONDS - t0))s")
	t0=$SECONDS
}
t0=$SECONDS

[[ $(id -u) == 0 ]] || die "run as root: the .deb is installed with dpkg -i (CI runs as root)"
for tool in dpkg-deb dpkg lintian rpm rpmbuild rpmlint man jq systemd-analyze; do
	command -v "$tool" >/dev/null || die "$tool is missing: run hack/install-deps.sh"
done
if dpkg-query -W -f='${db:Status-Status}' "$name" 2>/dev/null | grep -qx installed; then
	die "$name is already installed on this machine; package-check will not replace it (dpkg -P $name first)"
fi

work=$(mktemp -d)
scratch=$work/root
cleanup() {
	# Purge the .deb if a failed step left it installed.
	if dpkg-query -W -f='${db:Status-Status}' "$name" 2>/dev/null | grep -qx installed; then
		dpkg -P "$name" >/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. versions ----------------------------------------------------------------

log "versions"
# shellcheck disable=SC2016 # $(PKG_VERSION) is make's expansion, not the shell's
make_version=$(make -s --no-print-directory -f - <<<'include Makefile
print: ; @echo $(PKG_VERSION)-$(PKG_RELEASE)' print)
spec_version=$(rpmspec -q --srpm --qf '%{version}-%{release}' --undefine dist \
	--load packaging/rpm/macros.fallback packaging/rpm/$name.spec)
deb_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
echo "Makefile $make_version, spec $spec_version, debian/changelog $deb_version"
[[ $make_version == "$spec_version" && $make_version == "$deb_version" ]] ||
	die "package versions disagree; bump them together"
step versions

# ---- 1b. make install / uninstall into a DESTDIR ------------------------------------

log "make install DESTDIR=... PREFIX=/usr, then uninstall"
make -s --no-print-directory all >/dev/null
dest=$work/destdir
make -s --no-print-directory install DESTDIR="$dest" PREFIX=/usr >/dev/null
[[ -f $dest$plugin && ! -L $dest$plugin && $(stat -c %a "$dest$plugin") == 755 ]] ||
	die "make install: $plugin is not a regular 0755 file"
[[ -f $dest$command && ! -L $dest$command && $(stat -c %a "$dest$command") == 755 ]] ||
	die "make install: $command is not a regular 0755 file"
cmp -s "$dest$plugin" "$dest$command" && die "make install: $command is the plugin binary, not the command"
for page in man1/$name.1 man5/$name.5 man5/containers-policy-plugin.5; do
	[[ -f $dest/usr/share/man/$page ]] || die "make install: no $page"
done
make -s --no-print-directory uninstall DESTDIR="$dest" PREFIX=/usr >/dev/null
left=$(find "$dest" ! -type d)
[[ -z $left ]] || die "make uninstall left: $left"
step "make install/uninstall"

# ---- 2. nfpm packages, twice ------------------------------------------------------

# Both builds get the same commit time and version stamp, computed once, so a
# commit landing in between (a shared work tree) cannot fake a difference.
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)}
log "nfpm packages, built twice (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH, VERSION=$VERSION)"
make -s --no-print-directory packages DIST="$work/a" >/dev/null
make -s --no-print-directory packages DIST="$work/b" >/dev/null
deb=$(echo "$work"/a/*.deb)
rpm_nfpm=$(echo "$work"/a/*.rpm)
for f in "$deb" "$rpm_nfpm"; do
	[[ -f $f ]] || die "nfpm did not build $f"
	cmp "$f" "$work/b/$(basename "$f")" || die "$(basename "$f") differs between two builds: not reproducible"
	echo "reproducible: $(basename "$f") $(sha256sum <"$f" | cut -c1-16)"
done
step "build+reproducibility"

# run_plugin PLUGIN EXAMPLES_DIR: the protocol's file rules, metadata, and a
# real verify of the shipped public-good signature. The request names its trust
# file under $examples; for a scratch root the path is rewritten to match.
run_plugin() {
	local bin=$1 dir=$2 out out_verify
	[[ -f $bin && ! -L $bin && -x $bin ]] || die "$bin is not a regular executable file"
	[[ $(stat -c %a "$bin") == 755 ]] || die "$bin has mode $(stat -c %a "$bin"), want 755 (hosts refuse group/other-writable plugins)"
	out=$("$bin" metadata)
	jq -e '.kind == "Metadata" and .name == "sigstore" and (.version | length > 0)' <<<"$out" >/dev/null ||
		die "metadata: $out"
	out=$(sed "s#\"$examples/#\"$dir/#g" "$dir/public-good/request.json" | "$bin" verify) ||
		die "verify exited $?: $out"
	jq -e '.verdict == "accept" and .accepted.subject == "mitr@redhat.com"' <<<"$out" >/dev/null ||
		die "verify of the shipped example did not accept: $out"
	out_verify=$out
	# The plugin binary answers the protocol only: a command for people is an
	# unknown command to it.
	out=$("$bin" lint) && die "$bin lint exited 0: $out"
	jq -e '.kind == "Error" and .code == "UNKNOWN_COMMAND"' <<<"$out" >/dev/null ||
		die "$bin lint: want UNKNOWN_COMMAND, got $out"
	echo "$bin: metadata ok; verify: $(jq -r .reason <<<"$out_verify"); lint: UNKNOWN_COMMAND"
}

# run_command COMMAND PLUGINDIR EXAMPLES_DIR: the command for people, its own
# binary: --version, a verify by hand, and lint of a policy naming the plugin,
# which it runs from PLUGINDIR through the host package's lookup (validate-config).
run_command() {
	local bin=$1 plugins=$2 dir=$3 out
	[[ -f $bin && ! -L $bin && -x $bin ]] || die "$bin is not a regular executable file"
	"$bin" --version || die "$bin --version exited $?"
	out=$(sed "s#\"$examples/#\"$dir/#g" "$dir/public-good/request.json" | "$bin" verify) ||
		die "$bin verify exited $?: $out"
	jq -e '.verdict == "accept"' <<<"$out" >/dev/null || die "$bin verify of the shipped example did not accept: $out"
	# The example's own config, as a policy.json requirement.
	sed "s#\"$examples/#\"$dir/#g" "$dir/public-good/request.json" |
		jq '{default: [{type: "plugin", plugin: "sigstore", config: .config}]}' >"$work/lint-policy.json"
	out=$(CONTAINERS_POLICY_PLUGINS_DIR=$plugins "$bin" lint --policy "$work/lint-policy.json" 2>&1) ||
		die "$bin lint of a valid policy failed: $out"
	printf '{"default": [{"type": "plugin", "plugin": "sigstore", "config": {}}]}' >"$work/lint-policy.json"
	out=$(CONTAINERS_POLICY_PLUGINS_DIR=$plugins "$bin" lint --policy "$work/lint-policy.json" 2>&1) &&
		die "$bin lint accepted a config the plugin rejects: $out"
	grep -q 'no trust material' <<<"$out" || die "$bin lint: the plugin's validate-config answer is missing: $out"
	echo "$bin: --version ok; verify accepts; lint runs $plugins/sigstore"
}

# ---- 3. .deb ---------------------------------------------------------------------

log ".deb: $(basename "$deb")"
dpkg-deb -I "$deb"
dpkg-deb -c "$deb" | grep -v ' ./usr/share/doc/.*/licenses/' >"$work/deb-contents"
cat "$work/deb-contents"
grep -q "^-rwxr-xr-x root/root .* \./usr/lib/containers/policy-plugins.d/sigstore$" "$work/deb-contents" ||
	die ".deb: the plugin is not a root-owned 0755 file"
grep -q "^-rwxr-xr-x root/root .* \./usr/bin/$name$" "$work/deb-contents" ||
	die ".deb: /usr/bin/$name is not a root-owned 0755 file"
for unit in service timer; do
	grep -q "^-rw-r--r-- root/root .* \.$unitdir/$name-trusted-root\.$unit$" "$work/deb-contents" ||
		die ".deb: no 0644 $unitdir/$name-trusted-root.$unit"
done
lintian --fail-on error,warning --display-info "$deb"
echo "lintian: clean (errors and warnings; overrides in /usr/share/lintian/overrides/$name)"
step "deb lint"

dpkg -i "$deb"
run_plugin "$plugin" "$examples"
run_command "$command" "$(dirname "$plugin")" "$examples"
for page in "1 $name" "5 $name" "5 containers-policy-plugin"; do
	# shellcheck disable=SC2086 # section and name
	man -w $page || die "man -w $page: not found"
done
# The trusted-root update units: valid for systemd (it resolves ExecStart and
# the man page, both installed now), shipped but not enabled.
units=("$unitdir/$name-trusted-root.service" "$unitdir/$name-trusted-root.timer")
systemd-analyze verify "${units[@]}" || die "systemd-analyze verify: the trusted-root units have problems (above)"
echo "systemd-analyze verify: ${units[*]} ok"
enabled=$(find /etc/systemd/system -name "$name-trusted-root.*" 2>/dev/null)
[[ -z $enabled ]] || die "installing the .deb enabled the timer: $enabled"
dpkg -P "$name"
for f in "$plugin" "$command" "/usr/share/man/man1/$name.1.gz" "$examples" "${units[@]}"; do
	[[ ! -e $f && ! -L $f ]] || die "$f is still there after dpkg -P"
done
step "deb install/run/purge"

# rpm_cycle RPM: install into a fresh scratch root, verify, run, erase.
rpm_cycle() {
	local pkg=$1
	rm -rf "$scratch"
	mkdir -p "$scratch"
	rpm --root "$scratch" --initdb
	rpm -i --root "$scratch" --nodeps --noscripts "$pkg"
	# --nodeps: the scratch root has no /bin/sh for the spec's systemd
	# scriptlets (installed with --noscripts); rpm -V checks the files.
	rpm -V --nodeps --root "$scratch" "$name" || die "rpm -V: installed files differ from the package"
	for unit in service timer; do
		[[ -f $scratch$unitdir/$name-trusted-root.$unit ]] || die "$pkg: no $unitdir/$name-trusted-root.$unit"
	done
	run_plugin "$scratch$plugin" "$scratch$examples"
	run_command "$scratch$command" "$(dirname "$scratch$plugin")" "$scratch$examples"
	rpm -e --noscripts --root "$scratch" "$name"
	[[ ! -e $scratch$plugin ]] || die "rpm -e left $plugin behind"
}

# ---- 4. .rpm from nfpm ---------------------------------------------------------------

log ".rpm (nfpm): $(basename "$rpm_nfpm")"
rpm -qplv "$rpm_nfpm" | grep -v '/licenses/containers-policy-sigstore/modules/'
rpm_cycle "$rpm_nfpm"
step "rpm (nfpm) install/run/erase"

# ---- 5. .rpm from rpmbuild -------------------------------------------------------------

log ".rpm (rpmbuild with packaging/rpm/macros.fallback)"
# The full suite already ran; the spec's %check keeps its license check and
# the verify of the public-good example.
packaging/rpm/build.sh "$work/rpmbuild" --without check >"$work/rpmbuild.log" 2>&1 ||
	{ tail -50 "$work/rpmbuild.log"; die "rpmbuild failed (log above)"; }
rpm_built=$(echo "$work"/rpmbuild/$name-[0-9]*.x86_64.rpm)
srpm=$(echo "$work"/rpmbuild/$name-*.src.rpm)
[[ -f $rpm_built && -f $srpm ]] || die "rpmbuild made no binary or source rpm"
grep 'License: .* matches vendor/' "$work/rpmbuild.log" || die "the spec's license check did not run"
# rpmlint parses the spec inside the SRPM with rpm's own macro files: give it
# the fallback macros through a throwaway HOME (~/.rpmmacros), not the system.
rpmhome=$work/rpmlint-home
mkdir -p "$rpmhome"
cp packaging/rpm/macros.fallback "$rpmhome/.rpmmacros"
HOME=$rpmhome rpmlint -c packaging/rpm/rpmlint.toml -r packaging/rpm/$name.rpmlintrc "$rpm_built" "$srpm" ||
	die "rpmlint found problems"
rpm -qplv "$rpm_built" | grep -v '/licenses/containers-policy-sigstore/vendor/'
rpm_cycle "$rpm_built"
step "rpm (rpmbuild) build/lint/install/run/erase"

log "passed in $((SECONDS - start))s: ${timings[*]}"
