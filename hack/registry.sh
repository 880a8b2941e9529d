#!/usr/bin/env bash
# Run a throwaway container registry on loopback, for manual testing.
#
#   hack/registry.sh start    # prints 127.0.0.1:PORT
#   hack/registry.sh stop
#   hack/registry.sh addr     # prints the address of the running one
#
# It runs Debian's docker-registry (distribution 2.8) with a generated config:
# plain HTTP on 127.0.0.1 on a free port, no auth, delete enabled, storage in
# $CPS_REGISTRY_DIR (default ${TMPDIR:-/tmp}/cps-registry), which `stop`
# removes. distribution 2.8 has no OCI referrers API: clients use the referrers
# tag fallback (see hack/README.md). Go tests use internal/e2e.StartRegistry
# instead, which does the same per test.
#
# Push to it with: skopeo copy --dest-tls-verify=false SRC docker://$(hack/registry.sh addr)/team/app:1
# Sign with:       cosign sign --allow-http-registry ...
set -euo pipefail

dir=${CPS_REGISTRY_DIR:-${TMPDIR:-/tmp}/cps-registry}
bin=${REGISTRY_BIN:-/usr/bin/docker-registry}

die() {
	echo "registry.sh: $*" >&2
	exit 1
}

running() {
	[[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null
}

# probe PORT: true when GET /v2/ on 127.0.0.1:PORT answers 200.
probe() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
		IFS= read -r -t 2 status <&3 || exit 1
		[[ $status == "HTTP/1."?" 200"* ]]
	) 2>/dev/null
}

# in_use PORT: true when something accepts connections on 127.0.0.1:PORT.
in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
	if [[ ${1:-} == --referrers ]]; then
		die "no registry with the OCI referrers API installs here (distribution v3.1.2 builds but has none; zot is not on the Go module proxy); Go tests emulate one with e2e.RegistryOptions{ReferrersAPI: true}; see hack/README.md"
	fi
	[[ -x $bin ]] || die "$bin not found; run hack/install-deps.sh"
	if running; then
		cat "$dir/addr"
		return
	fi
	rm -rf "$dir"
	mkdir -p "$dir/storage"
	local attempt port pid
	for attempt in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		in_use "$port" && continue
		cat >"$dir/config.yml" <<-EOF
			version: 0.1
			log:
			  level: warn
			  accesslog:
			    disabled: true
			storage:
			  filesystem:
			    rootdirectory: $dir/storage
			  delete:
			    enabled: true
			http:
			  addr: 127.0.0.1:$port
			  secret: cps-test-registry
		EOF
		# REGISTRY_* variables would override the config file.
		# shellcheck disable=SC2046 # one "-u NAME" word pair per variable
		env $(env | sed -n 's/^\(REGISTRY_[A-Za-z0-9_]*\)=.*/-u \1/p') \
			setsid "$bin" serve "$dir/config.yml" >"$dir/log" 2>&1 </dev/null &
		pid=$!
		echo "$pid" >"$dir/pid"
		for _ in $(seq 100); do
			if probe "$port"; then
				echo "127.0.0.1:$port" | tee "$dir/addr"
				return
			fi
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$pid" 2>/dev/null || true
		echo "registry.sh: attempt $attempt on port $port failed:" >&2
		tail -n 5 "$dir/log" >&2
	done
	die "could not start $bin"
}

stop() {
	if running; then
		local pid
		pid=$(cat "$dir/pid")
		kill "$pid"
		for _ in $(seq 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -rf "$dir"
}

case ${1:-} in
start) start "${@:2}" ;;
stop) stop ;;
addr)
	if running; then cat "$dir/addr"; else die "not running"; fi
	;;
*)
	echo "usage: $0 start|stop|addr" >&2
	exit 2
	;;
esac
