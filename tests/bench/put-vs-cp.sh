#!/usr/bin/env bash
# Whole-process benchmark: `put` of a 1 GiB file through `objectstore shell` to a running
# `objectstore node` (fsync on), against `cp FILE DIR && sync` of the same file, in one run.
# Also reports the node's peak RSS (VmHWM) over the puts.
# Usage: tests/bench/put-vs-cp.sh [SIZE_MIB] [ROUNDS]     (defaults: 1024, 3)
set -euo pipefail
size_mib=${1:-1024}
rounds=${2:-3}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${BENCH_DIR:-$root}/.bench.XXXXXX")
node_pid=""
cleanup() {
  [ -n "$node_pid" ] && kill "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

dotnet build "$root/src/ObjectStore.Node" -c Release -v quiet -nologo >/dev/null
bin="$root/src/ObjectStore.Node/bin/Release/net10.0/objectstore.dll"

echo "writing a ${size_mib} MiB random file"
head -c $((size_mib * 1024 * 1024)) /dev/urandom > "$work/input.bin"
sync

dotnet "$bin" node --data "$work/data" --port 0 > "$work/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 100); do grep -q "listening on" "$work/node.log" && break; sleep 0.2; done
port=$(grep -o 'listening on [0-9.]*:[0-9]*' "$work/node.log" | sed 's/.*://')
[ -n "$port" ] || { echo "node did not start"; cat "$work/node.log"; exit 1; }

now() { date +%s.%N; }
printf "%-6s %10s %10s %8s\n" round "cp+sync s" "put s" ratio
for round in $(seq 1 "$rounds"); do
  rm -rf "$work/cp" && mkdir "$work/cp" && sync
  t0=$(now); cp "$work/input.bin" "$work/cp/" && sync; t1=$(now)
  # A new key each round, and the data directory emptied, so every put writes all its chunks.
  dotnet "$bin" shell --node "127.0.0.1:$port" -c "rm bench/big" >/dev/null 2>&1 || true
  sync
  t2=$(now); dotnet "$bin" shell --node "127.0.0.1:$port" -c "put $work/input.bin bench/big" > "$work/put.out"; t3=$(now)
  cp_s=$(echo "$t1 - $t0" | bc -l); put_s=$(echo "$t3 - $t2" | bc -l)
  printf "%-6s %10.2f %10.2f %8.2f\n" "$round" "$cp_s" "$put_s" "$(echo "$put_s / $cp_s" | bc -l)"
done
echo "node peak RSS: $(grep VmHWM /proc/$node_pid/status | awk '{print $2/1024 " MiB"}')"
dotnet "$bin" shell --node "127.0.0.1:$port" -c "get bench/big $work/back.bin" >/dev/null
cmp "$work/input.bin" "$work/back.bin" && echo "round trip: identical bytes"
