#!/usr/bin/env bash
# Times whole plugin processes with hyperfine (Debian's; old enough to lack
# --input, so verify reads its request through the shell: `< file`): a cold
# verify of the shipped example next to an empty Go process; then lists the
# package initialisations that run before main (GODEBUG=inittrace=1); then
# times `check` against `cosign verify` on the same key-signed image in a
# loopback registry (see check_vs_cosign below); then, when the patched podman
# of `make upstream-clients` exists (bin/upstream/podman), a real podman pull
# with sigstoreSigned against the same pull with the plugin (podman_pull).
#
#   hack/bench.sh [PLUGIN [COMMAND]]   # default bin/containers-policy-sigstore-plugin and
#                                      # bin/containers-policy-sigstore; run from the repo root
#   BENCH_ONLY=verify hack/bench.sh    # only the plugin processes
#   BENCH_ONLY=check hack/bench.sh     # only check vs cosign
#   BENCH_ONLY=start hack/bench.sh     # only the process start floor (start_floor)
#   BENCH_ONLY=podman hack/bench.sh    # only podman pull (BENCH_PODMAN, default bin/upstream/podman)
#
# Numbers depend on the machine and its load: the load average is printed with
# them. README.md's Performance section records a run.
set -euo pipefail
cd "$(dirname "$0")/.."

# The plugin binary is what hosts run (and what check runs); the command is
# what people run (check, lint).
bin=${1:-bin/containers-policy-sigstore-plugin}
command=${2:-bin/containers-policy-sigstore}
podman=${BENCH_PODMAN:-bin/upstream/podman}
request=testdata/public-good/request.json # its config paths are relative to the repo root
runs=${BENCH_RUNS:-200}

command -v hyperfine >/dev/null || { echo "hyperfine not found: apt-get install hyperfine" >&2; exit 2; }
for b in "$bin" "$command"; do
	test -x "$b" || { echo "$b is missing: run 'make binary' first" >&2; exit 2; }
done
grep -q '"verdict":"accept"' <("$bin" verify <"$request") || { echo "$bin does not accept $request" >&2; exit 1; }

tmp=$(mktemp -d)
registry_dir=$tmp/registry
trap 'CPS_REGISTRY_DIR=$registry_dir hack/registry.sh stop >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
medians() { # hyperfine 1.15 prints means; the JSON export has medians
	tr -d '\n' <"$1" | grep -o '"command": *"[^"]*"\|"median": *[0-9.e-]*' |
		awk -F'": *' '/"command"/ { c = $2 } /"median"/ { printf "  median %.2f ms  %s\n", $2 * 1000, c }'
}

# interleave ROUNDS NAME COMMAND [NAME COMMAND]...: runs each COMMAND (a
# shell command line, eval'ed: podman_pull's shell function) once per round,
# in turn, timed by bash's EPOCHREALTIME, and prints each one's median wall
# time (ms), then each later one's median against the first's.
interleave() {
	local rounds=$1 i k t0 t1 out=$tmp/interleave
	shift
	local -a names=() cmds=()
	while (($#)); do names+=("$1") cmds+=("$2") && shift 2; done
	: >"$out"
	for ((i = 0; i < rounds; i++)); do
		for k in "${!cmds[@]}"; do
			t0=$EPOCHREALTIME
			eval "${cmds[k]}" || { echo "failed: ${cmds[k]}" >&2; return 1; }
			t1=$EPOCHREALTIME
			echo "$k $t0 $t1" >>"$out"
		done
	done
	# Sorted by command, then time: each command's median is its middle line.
	awk '{ printf "%d %.3f\n", $1, ($3 - $2) * 1000 }' "$out" | sort -k1,1n -k2,2n | awk -v names="$(printf '%s\n' "${names[@]}")" '
		BEGIN { c = split(names, name, "\n"); k = -1 }
		function flush() { if (n) m[k] = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }
		$1 != k { flush(); k = $1; n = 0 }
		{ v[++n] = $2 }
		END {
			flush()
			for (i = 0; i in m; i++) printf "  median %.2f ms  %s\n", m[i], name[i + 1]
			for (i = 1; i in m; i++) printf "  %s / %s = %.2fx (%+.2f ms)\n", name[i + 1], name[1], m[i] / m[0], m[i] - m[0]
		}'
}

# probe NAME: hack/startprobe/NAME built like the binaries (static, -trimpath, -s -w).
probe() {
	CGO_ENABLED=0 go build -tags containers_image_openpgp -trimpath -ldflags '-s -w' -o "$tmp/probe-$1" "./hack/startprobe/$1"
	echo "$tmp/probe-$1"
}

plugin_processes() {
	local empty
	empty=$(probe empty)
	echo "# $(uname -srm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $("$command" --version 2>/dev/null || true); plugin $bin"
	hyperfine --shell=none --warmup 20 --runs "$runs" --style basic --export-json "$tmp/start.json" \
		--command-name "empty Go process" "$empty" \
		--command-name "plugin metadata (process start)" "$bin metadata" >/dev/null
	medians "$tmp/start.json"
	# Shell mode for the redirection; hyperfine subtracts the shell's own start.
	hyperfine --warmup 10 --runs "$runs" --style basic --export-json "$tmp/verify.json" \
		--command-name "plugin verify < $request (cold)" "$bin verify < $request" \
		--command-name "command verify < $request (cold)" "$command verify < $request" >/dev/null
	medians "$tmp/verify.json"
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
	# hyperfine runs one command's runs back to back: on a shared machine the
	# load moves between them. The same processes interleaved (hack/interleave:
	# one of each per round, no shell), with their CPU time, which the load
	# inflates far less than the wall time.
	echo "# interleaved, $runs rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	go build -o "$tmp/interleave" ./hack/interleave
	"$tmp/interleave" -rounds "$runs" -stdin "$request" -- "$empty" -- "$bin" verify -- "$command" verify -- "$bin" metadata
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

	# Package initialisation before main, the ten dearest of the median of 21 runs.
	echo "# package init (GODEBUG=inittrace=1, $bin metadata): total and the dearest, median of 21 runs"
	for _ in $(seq 21); do
		GODEBUG=inittrace=1 "$bin" metadata 2>&1 >/dev/null | awk '/^init / {print $2, $5}'
	done | sort -k1,1 -k2,2n | awk '
		function flush() { if (n) printf "%.3f %s\n", v[int((n + 1) / 2)], pkg }
		$1 != pkg { flush(); pkg = $1; n = 0 }
		{ v[++n] = $2 }
		END { flush() }' | sort -rn | awk '
		{ total += $1; line[NR] = $0 }
		END {
			printf "  %.2f ms in %d packages\n", total, NR
			for (i = 1; i <= 10 && i <= NR; i++) { split(line[i], f, " "); printf "  %6s ms  %s\n", f[1], f[2] }
		}'
}

# oci_image DIR CONTENT: a one-layer linux/amd64 OCI image layout in DIR,
# tagged latest, for skopeo to push.
oci_image() {
	local dir=$1 work h diffid layer config manifest
	work=$(mktemp -d -p "$tmp")
	mkdir -p "$dir/blobs/sha256"
	store() { h=$(sha256sum "$1" | cut -d' ' -f1) && cp "$1" "$dir/blobs/sha256/$h"; }
	printf '%s\n' "$2" >"$work/content"
	tar -C "$work" --owner=0 --group=0 --mtime=@0 -cf "$work/layer.tar" content
	diffid=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
	gzip -n -c "$work/layer.tar" >"$work/layer.tar.gz"
	store "$work/layer.tar.gz" && layer=$h
	printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' "$diffid" >"$work/config"
	store "$work/config" && config=$h
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%d}]}' \
		"$config" "$(stat -c %s "$work/config")" "$layer" "$(stat -c %s "$work/layer.tar.gz")" >"$work/manifest"
	store "$work/manifest" && manifest=$h
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
		"$manifest" "$(stat -c %s "$work/manifest")" >"$dir/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
}

# max_rss_median RUNS CMD...: the median of RUNS maximum resident set sizes
# (GNU time's %M, KiB: the largest process of the run, check's own or one of
# its plugin processes), in MiB.
max_rss_median() {
	local runs=$1
	shift
	for _ in $(seq "$runs"); do
		/usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>&1 || { echo "failed: $*" >&2; return 1; }
		cat "$tmp/rss"
	done | sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1024 }'
}

# check_vs_cosign: `check` (the plugin run as a host runs it: validate-config,
# metadata, verify) against `cosign verify --key`, on the same image signed by
# cosign with a key, in a loopback docker-registry configured the way podman
# users configure it (registries.conf insecure = true; cosign needs
# --allow-http-registry). Once in cosign's legacy layout (a .sig tag), once in
# its v3 default (a Sigstore bundle referrer, through the referrers tag).
# The two commands run one after the other, per format; the ratio of their
# medians is reported with the load average, which moves them both.
check_vs_cosign() {
	local cosign runs=${BENCH_CHECK_RUNS:-30} addr d
	for tool in docker-registry skopeo /usr/bin/time; do
		command -v "$tool" >/dev/null || { echo "$tool not found: run hack/install-deps.sh" >&2; exit 2; }
	done
	cosign=$(hack/tool.sh cosign)
	[[ -x $tmp/interleave ]] || go build -o "$tmp/interleave" ./hack/interleave
	addr=$(CPS_REGISTRY_DIR=$registry_dir hack/registry.sh start)
	export COSIGN_PASSWORD=bench
	"$cosign" generate-key-pair --output-key-prefix "$tmp/cosign" >/dev/null 2>&1
	mkdir -p "$tmp/plugins" "$tmp/registries.d"
	# check runs the installed plugin, as podman does: the plugin binary.
	cp "$bin" "$tmp/plugins/sigstore"
	chmod 0755 "$tmp/plugins/sigstore"
	printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$addr" >"$tmp/registries.conf"
	printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n' "$addr" >"$tmp/registries.d/bench.yaml"
	echo '{}' >"$tmp/auth.json"
	export CONTAINERS_POLICY_PLUGINS_DIR=$tmp/plugins CONTAINERS_REGISTRIES_CONF=$tmp/registries.conf REGISTRY_AUTH_FILE=$tmp/auth.json
	echo "# check vs cosign verify ($("$cosign" version 2>/dev/null | awk '/GitVersion/ {print $2}')), key-signed image on $addr (docker-registry, referrers tag fallback), $runs runs each"
	echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
	for format in legacy bundle; do
		oci_image "$tmp/image-$format" "check vs cosign, $format"
		skopeo --insecure-policy copy --quiet --preserve-digests --dest-tls-verify=false "oci:$tmp/image-$format:latest" "docker://$addr/team/$format:1"
		d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$addr/team/$format:1")
		local sign=(--new-bundle-format=false) identity=matchRepository
		if [[ $format == bundle ]]; then
			sign=() identity=digestOnly # a v3 bundle names the digest only
		fi
		"$cosign" sign --key "$tmp/cosign.key" "${sign[@]}" --tlog-upload=false --use-signing-config=false --allow-http-registry --yes "$addr/team/$format@$d" >/dev/null 2>&1
		printf '{"default": [{"type": "reject"}], "transports": {"docker": {"%s/team": [{"type": "plugin", "plugin": "sigstore", "config": {"keyPath": "%s", "signedIdentity": {"type": "%s"}}}]}}}' \
			"$addr" "$tmp/cosign.pub" "$identity" >"$tmp/policy-$format.json"
		local check_cmd=("$command" check --policy "$tmp/policy-$format.json" --registries.d "$tmp/registries.d" "$addr/team/$format:1")
		local cosign_cmd=("$cosign" verify --key "$tmp/cosign.pub" --insecure-ignore-tlog=true --allow-http-registry "$addr/team/$format:1")
		"${check_cmd[@]}" >/dev/null || { echo "check does not accept the $format image" >&2; exit 1; }
		"${cosign_cmd[@]}" >/dev/null 2>&1 || { echo "cosign verify does not accept the $format image" >&2; exit 1; }
		hyperfine --shell=none --warmup 3 --runs "$runs" --style basic --export-json "$tmp/check-$format.json" \
			--command-name "check ($format)" "${check_cmd[*]}" \
			--command-name "cosign verify ($format)" "${cosign_cmd[*]}" >/dev/null
		medians "$tmp/check-$format.json"
		tr -d '\n' <"$tmp/check-$format.json" | grep -o '"median": *[0-9.e-]*' | awk -F': *' -v f="$format" '
			{ m[NR] = $2 } END { printf "  %s: check takes %.2fx the wall time of cosign verify (cosign/check = %.2f)\n", f, m[1] / m[2], m[2] / m[1] }'
		printf '  %s: max RSS, median of %d: check %s MiB, cosign verify %s MiB\n' "$format" "$runs" \
			"$(max_rss_median "$runs" "${check_cmd[@]}")" "$(max_rss_median "$runs" "${cosign_cmd[@]}")"
		# The same two interleaved, with their CPU time (a process's own and its
		# children's: check's plugin processes count).
		echo "  $format, interleaved ($runs rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)):"
		"$tmp/interleave" -rounds "$runs" -- "${check_cmd[@]}" -- "${cosign_cmd[@]}" | sed 's/^/  /'
	done
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# start_floor: what starting each process costs before main, the part of a
# check no code of this project runs: the Go runtime alone, sigstore-go's
# verifier linked (any plugin verifying with sigstore-go), the check command
# without the plugin, the plugin and the command, and cosign. hack/startprobe
# holds the probe programs.
start_floor() {
	local cosign p cmds=()
	cosign=$(hack/tool.sh cosign)
	for p in empty containersimage sigstorego check; do
		cmds+=(--command-name "start: $p probe" "$(probe "$p")")
	done
	cmds+=(--command-name "start: $bin metadata" "$bin metadata")
	cmds+=(--command-name "start: $command --version" "$command --version")
	cmds+=(--command-name "start: cosign version" "$cosign version")
	echo "# process start, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	hyperfine --shell=none --warmup 5 --runs "${BENCH_START_RUNS:-60}" --style basic --export-json "$tmp/floor.json" "${cmds[@]}" >/dev/null
	medians "$tmp/floor.json"
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

# podman_pull: the real podman pull of issue 18, built by `make
# upstream-clients` with the containers/image series: one key-signed image
# (cosign legacy layout) on a loopback docker-registry, already in podman's
# storage after a first pull, pulled again under a policy whose scope uses
# sigstoreSigned and under one whose scope uses the plugin with the same key.
# The two alternate, one run of each per round (hyperfine runs each command's
# runs back to back, which a changing load skews), timed by bash, medians.
# podman runs as internal/upstreamclients runs it: a private mount namespace
# (cgroup2 mounted), vfs storage in a scratch directory, no events.
podman_pull() {
	local rounds=${BENCH_PODMAN_RUNS:-30} addr d cosign store kind
	if [[ ! -x $podman ]]; then
		echo "# podman pull: skipped, $podman not found (make upstream-clients builds it)"
		return 0
	fi
	for tool in docker-registry skopeo unshare; do
		command -v "$tool" >/dev/null || { echo "$tool not found: run hack/install-deps.sh" >&2; exit 2; }
	done
	cosign=$(hack/tool.sh cosign)
	addr=$(CPS_REGISTRY_DIR=$registry_dir hack/registry.sh start)
	export COSIGN_PASSWORD=bench
	[[ -f $tmp/cosign.key ]] || "$cosign" generate-key-pair --output-key-prefix "$tmp/cosign" >/dev/null 2>&1
	mkdir -p "$tmp/plugins" "$tmp/podman/config/containers/registries.d" "$tmp/podman/home" "$tmp/podman/tmp"
	cp "$bin" "$tmp/plugins/sigstore" && chmod 0755 "$tmp/plugins/sigstore"
	printf 'docker:\n  %s:\n    use-sigstore-attachments: true\n' "$addr" >"$tmp/podman/config/containers/registries.d/bench.yaml"
	oci_image "$tmp/image-podman" "podman pull bench"
	skopeo --insecure-policy copy --quiet --preserve-digests --dest-tls-verify=false "oci:$tmp/image-podman:latest" "docker://$addr/team/podman:1"
	d=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$addr/team/podman:1")
	"$cosign" sign --key "$tmp/cosign.key" --new-bundle-format=false --tlog-upload=false --use-signing-config=false --allow-http-registry --yes "$addr/team/podman@$d" >/dev/null 2>&1
	printf '{"default": [{"type": "reject"}], "transports": {"docker": {"%s/team": [{"type": "sigstoreSigned", "keyPath": "%s", "signedIdentity": {"type": "matchRepository"}}]}}}' \
		"$addr" "$tmp/cosign.pub" >"$tmp/policy-sigstoreSigned.json"
	printf '{"default": [{"type": "reject"}], "transports": {"docker": {"%s/team": [{"type": "plugin", "plugin": "sigstore", "config": {"keyPath": "%s", "signedIdentity": {"type": "matchRepository"}}}]}}}' \
		"$addr" "$tmp/cosign.pub" >"$tmp/policy-plugin.json"
	printf '' >"$tmp/podman/empty.conf"
	echo '{}' >"$tmp/podman/auth.json"
	store=$tmp/podman/storage
	# shellcheck disable=SC2016 # the namespace script expands its own "$d" and "$@"
	local ns='set -e
mount -t cgroup2 none /sys/fs/cgroup
for d in /etc/containers/registries.d /etc/containers/registries.rootful.d /usr/share/containers/registries.d /usr/share/containers/registries.rootful.d; do
	if [ -d "$d" ]; then mount -t tmpfs -o ro,mode=0755 none "$d"; fi
done
exec "$@"'
	pull() { # pull POLICY
		env -i PATH="$PATH" HOME="$tmp/podman/home" TMPDIR="$tmp/podman/tmp" XDG_CONFIG_HOME="$tmp/podman/config" \
			CONTAINERS_CONF="$tmp/podman/empty.conf" CONTAINERS_STORAGE_CONF="$tmp/podman/empty.conf" \
			CONTAINERS_REGISTRIES_CONF="$tmp/podman/empty.conf" REGISTRY_AUTH_FILE="$tmp/podman/auth.json" \
			CONTAINERS_POLICY_PLUGINS_DIR="$tmp/plugins" \
			unshare -m sh -c "$ns" sh "$podman" --root "$store/root" --runroot "$store/runroot" --tmpdir "$store/tmp" \
			--storage-driver vfs --cgroup-manager cgroupfs --events-backend none \
			pull --quiet --signature-policy "$1" --tls-verify=false "$addr/team/podman:1" >/dev/null
	}
	for kind in sigstoreSigned plugin; do
		pull "$tmp/policy-$kind.json" || { echo "podman pull with $kind does not accept the image" >&2; exit 1; }
	done
	echo "# podman pull ($("$podman" --version)), image in storage, $addr, $rounds interleaved rounds, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	interleave "$rounds" \
		"podman pull, sigstoreSigned" "pull $tmp/policy-sigstoreSigned.json" \
		"podman pull, plugin" "pull $tmp/policy-plugin.json"
	echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}

case ${BENCH_ONLY:-all} in
verify) plugin_processes ;;
check) check_vs_cosign ;;
start) start_floor ;;
podman) podman_pull ;;
*)
	plugin_processes
	start_floor
	check_vs_cosign
	podman_pull
	;;
esac
