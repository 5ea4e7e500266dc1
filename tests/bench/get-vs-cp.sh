#!/usr/bin/env bash
# Whole-process benchmark: `get` of a SIZE_MIB file from one `objectstore node` (factor 1) through
# `objectstore shell`, against `cp` of the same file, the page cache dropped before each (root only:
# /proc/sys/vm/drop_caches). Rounds alternate get and cp; prints every round, then the median ratio and
# its spread. Needs root for the cache drops.
# Usage: tests/bench/get-vs-cp.sh [SIZE_MIB] [ROUNDS]          (defaults: 1024, 5)
#        APP=DIR tests/bench/get-vs-cp.sh ...                   (a build published beforehand, for A/B runs)
set -euo pipefail
size_mib=${1:-1024}
rounds=${2:-5}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${BENCH_DIR:-$root}/.bench.XXXXXX")
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
if [ -n "${APP:-}" ]; then app=$APP; else
  dotnet publish "$root/src/ObjectStore.Node" -c Release -r linux-x64 --self-contained false \
    -p:PublishReadyToRun=true --artifacts-path "$work/artifacts" -o "$work/app" -v quiet -nologo >/dev/null
  app=$work/app
fi
# The apphost: the same for a framework-dependent and a self-contained (composite) publish.
objectstore=("$app/objectstore")
drop() { sync; echo 3 > /proc/sys/vm/drop_caches; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 47311)
"${objectstore[@]}" node --data "$work/data" --port "$port" --factor 1 --cmd-port 0 > "$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/node.log" && break; sleep 0.1; done
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/input.bin"
"${objectstore[@]}" shell --node "127.0.0.1:$port" -c "put '$work/input.bin' bench/input.bin" > /dev/null
seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }
ratios=()
printf '%-6s %10s %10s %8s\n' round get cp ratio
for r in $(seq 1 "$rounds"); do
  rm -f "$work/out.bin" "$work/cp.bin"; drop
  g=$(seconds "${objectstore[@]}" shell --node "127.0.0.1:$port" -c "get --force bench/input.bin '$work/out.bin'")
  cmp -s "$work/input.bin" "$work/out.bin" || { echo "round $r: the object came back different" >&2; exit 1; }
  drop
  c=$(seconds cp "$work/input.bin" "$work/cp.bin")
  ratio=$(echo "scale=2; $g / $c" | bc)
  ratios+=("$ratio")
  printf '%-6s %9.2fs %9.2fs %7.2fx\n' "$r" "$g" "$c" "$ratio"
done
sorted=($(printf '%s\n' "${ratios[@]}" | sort -n))
echo "get / cp: median ${sorted[$(( ${#sorted[@]} / 2 ))]}x (spread ${sorted[0]}-${sorted[-1]}), $rounds rounds, ${size_mib} MiB"
