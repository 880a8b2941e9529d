#!/usr/bin/env bash
# Times whole plugin processes with hyperfine (Debian's; old enough to lack
# --input, so verify reads its request through the shell: `< file`), then lists
# the package initialisations that run before main (GODEBUG=inittrace=1).
#
#   hack/bench.sh [BINARY]       # default bin/containers-policy-sigstore; run from the repo root
#
# Numbers depend on the machine and its load: the load average is printed with
# them. README.md's Performance section records a run.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-bin/containers-policy-sigstore}
request=testdata/public-good/request.json # its config paths are relative to the repo root
runs=${BENCH_RUNS:-200}

command -v hyperfine >/dev/null || { echo "hyperfine not found: apt-get install hyperfine" >&2; exit 2; }
test -x "$bin" || { echo "$bin is missing: run 'make binary' first" >&2; exit 2; }
grep -q '"verdict":"accept"' <("$bin" verify <"$request") || { echo "$bin does not accept $request" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
medians() { # hyperfine 1.15 prints means; the JSON export has medians
	tr -d '\n' <"$1" | grep -o '"command": *"[^"]*"\|"median": *[0-9.e-]*' |
		awk -F'": *' '/"command"/ { c = $2 } /"median"/ { printf "  median %.2f ms  %s\n", $2 * 1000, c }'
}

echo "# $(uname -srm), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $("$bin" --version 2>/dev/null || true)"
hyperfine --shell=none --warmup 20 --runs "$runs" --style basic --export-json "$tmp/start.json" \
	--command-name "metadata (process start)" "$bin metadata"
medians "$tmp/start.json"
hyperfine --warmup 10 --runs "$runs" --style basic --export-json "$tmp/verify.json" \
	--command-name "verify $request" "$bin verify < $request"
medians "$tmp/verify.json"
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
